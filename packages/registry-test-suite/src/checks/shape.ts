import type { RegistryCapabilities } from '@bentoport/spec';
import type { CheckContext } from '../check-context.js';
import { assert } from 'vitest';

export const CAPABILITY_NAMES = ['separateModels', 'dedup', 'resumableUploads'] as const satisfies readonly (keyof RegistryCapabilities)[];

/** `apiVersion` 1, a name, a url, boolean capabilities, `has`/`push`/`pull`, `list` a function when present, `latest` when `latestVersion` is declared, and `listItems` when `listItems` is. */
export async function checkShape({ registry }: CheckContext): Promise<void> {
  assert(registry.apiVersion === 1, `apiVersion must be 1, got ${String(registry.apiVersion)}`);
  assert(typeof registry.name === 'string' && registry.name.length > 0, 'name must be a non-empty string');
  assert(typeof registry.url === 'string' && registry.url.length > 0, 'url must be a non-empty string');
  const capabilities = registry.capabilities as unknown as Partial<Record<string, unknown>> | undefined;
  assert(typeof capabilities === 'object' && capabilities !== null, 'capabilities must be an object');
  for (const name of CAPABILITY_NAMES) {
    assert(typeof capabilities[name] === 'boolean', `capabilities.${name} must be a boolean, got ${typeof capabilities[name]}`);
  }
  for (const method of ['has', 'push', 'pull'] as const) assert(typeof registry[method] === 'function', `${method} must be a function`);
  assert(registry.list === undefined || typeof registry.list === 'function', 'list must be a function when present');
  // latestVersion is optional (added after apiVersion 1 shipped): absent is fine, declared means latest is there.
  assert(capabilities.latestVersion === undefined || typeof capabilities.latestVersion === 'boolean', `capabilities.latestVersion must be a boolean when present, got ${typeof capabilities.latestVersion}`);
  assert(capabilities.latestVersion !== true || typeof registry.latest === 'function', 'capabilities.latestVersion is true, so latest must be a function');
  assert(capabilities.listItems === undefined || typeof capabilities.listItems === 'boolean', `capabilities.listItems must be a boolean when present, got ${typeof capabilities.listItems}`);
  assert(capabilities.listItems !== true || typeof registry.listItems === 'function', 'capabilities.listItems is true, so listItems must be a function');
}
