import type { FormatCapabilities } from '@bentoport/spec';
import type { CheckContext } from '../check-context.js';
import { assert } from 'vitest';

export const CAPABILITY_NAMES = ['randomAccessDecode', 'symlinks', 'hardlinks', 'reproducible'] as const satisfies readonly (keyof FormatCapabilities)[];

/** `apiVersion` 1, a name, distinct non-empty tokens, four boolean capabilities, and the three methods. */
export async function checkShape({ format }: CheckContext): Promise<void> {
  assert(format.apiVersion === 1, `apiVersion must be 1, got ${String(format.apiVersion)}`);
  assert(typeof format.name === 'string' && format.name.length > 0, 'name must be a non-empty string');
  const { formats } = format;
  assert(
    Array.isArray(formats) && formats.length > 0 && formats.every((token) => typeof token === 'string' && token.length > 0),
    'formats must be a non-empty array of non-empty strings',
  );
  assert(new Set(formats).size === formats.length, `formats must not repeat a token: ${formats.join(', ')}`);
  const capabilities = format.capabilities as unknown as Partial<Record<string, unknown>> | undefined;
  assert(typeof capabilities === 'object' && capabilities !== null, 'capabilities must be an object');
  for (const name of CAPABILITY_NAMES) {
    assert(typeof capabilities[name] === 'boolean', `capabilities.${name} must be a boolean, got ${typeof capabilities[name]}`);
  }
  for (const method of ['sniff', 'encode', 'decode'] as const) assert(typeof format[method] === 'function', `${method} must be a function`);
}
