import { describe, expect, it } from 'vitest';
import { memoryRegistry } from './memory-registry/memory-registry.js';
import { runRegistrySuite } from './run-registry-suite.js';

runRegistrySuite({
  name: 'memory (reference)',
  registry: memoryRegistry({ acceptedCredentials: 'good-secret', credentials: 'good-secret' }),
  badCredentials: memoryRegistry({ acceptedCredentials: 'good-secret', credentials: 'bad-secret' }),
  secrets: ['good-secret', 'bad-secret'],
});

// Every optional capability off and no bad-credentials registry: the suite must skip, not fail.
runRegistrySuite({
  name: 'memory without optional capabilities',
  registry: () => memoryRegistry({ capabilities: { dedup: false, resumableUploads: false }, list: false, latest: false, listItems: false }),
});

describe('memoryRegistry', () => {
  it('keeps each store private to its registry', async () => {
    const ref = { kind: 'model' as const, name: 'private', version: 'v1' };
    expect(await memoryRegistry().has(ref)).toBe(false);
  });

  it('refuses other credentials with ERR_AUTH, naming neither', async () => {
    const registry = memoryRegistry({ acceptedCredentials: 'right', credentials: 'wrong' });
    const error = (await registry.has({ kind: 'bento', name: 'svc', version: 'v1' }).catch((caught: unknown) => caught)) as Error;
    expect(error).toMatchObject({ code: 'ERR_AUTH' });
    expect(error.message).not.toMatch(/right|wrong/);
  });

  it('validates its options', () => {
    expect(() => memoryRegistry(null as never)).toThrow(TypeError);
  });
});

describe('runRegistrySuite', () => {
  it('refuses a skip naming no check, with a TypeError', () => {
    expect(() => runRegistrySuite({ registry: memoryRegistry(), skip: { 'no-such-check': 'typo' } })).toThrow(/names no check: no-such-check/);
  });
});
