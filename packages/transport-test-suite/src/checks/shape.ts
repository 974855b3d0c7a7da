import type { TransportCapabilities } from '@bentoport/spec';
import { check } from '../assertions.js';
import type { CheckContext } from '../check-context.js';

export const CAPABILITY_NAMES = [
  'rangedReads',
  'list',
  'delete',
  'atomicCommit',
  'resumableWrites',
] as const satisfies readonly (keyof TransportCapabilities)[];

/** `apiVersion` 1, a name, protocols, boolean capabilities, and `list`/`delete` present exactly when declared. */
export async function checkShape({ transport }: CheckContext): Promise<void> {
  check(transport.apiVersion === 1, `apiVersion must be 1, got ${String(transport.apiVersion)}`);
  check(typeof transport.name === 'string' && transport.name.length > 0, 'name must be a non-empty string');
  check(
    Array.isArray(transport.protocols) &&
      transport.protocols.length > 0 &&
      transport.protocols.every((protocol) => typeof protocol === 'string' && protocol.length > 0),
    'protocols must be a non-empty array of non-empty strings',
  );
  const capabilities = transport.capabilities as unknown as Partial<Record<string, unknown>> | undefined;
  check(typeof capabilities === 'object' && capabilities !== null, 'capabilities must be an object');
  for (const name of CAPABILITY_NAMES) {
    check(typeof capabilities[name] === 'boolean', `capabilities.${name} must be a boolean, got ${typeof capabilities[name]}`);
  }
  for (const method of ['stat', 'read', 'write'] as const) {
    check(typeof transport[method] === 'function', `${method} must be a function`);
  }
  for (const method of ['list', 'delete'] as const) {
    const present = typeof transport[method] === 'function';
    check(
      present === capabilities[method],
      `${method} is ${present ? 'present' : 'absent'} but capabilities.${method} is ${String(capabilities[method])}`,
    );
  }
}
