import type { Transport } from '@bentoport/spec';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { CheckContext } from './check-context.js';
import { TRANSPORT_CHECKS, type TransportCheck } from './checks/index.js';
import type { TransportSuiteOptions } from './suite-options.js';

/** Large enough for the 16 MiB checks on a slow disk or network, without the user's testTimeout. */
const CHECK_TIMEOUT_MILLISECONDS = 120_000;

function validate(options: TransportSuiteOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('runTransportSuite: options must be an object');
  if (typeof options.name !== 'string' || options.name === '') throw new TypeError('runTransportSuite: options.name must be a non-empty string');
  if (typeof options.transport !== 'object' && typeof options.transport !== 'function') {
    throw new TypeError('runTransportSuite: options.transport must be a Transport or a function returning one');
  }
  if (typeof options.location !== 'function') throw new TypeError('runTransportSuite: options.location must be a function');
}

async function resolveTransport(transport: TransportSuiteOptions['transport']): Promise<Transport> {
  return typeof transport === 'function' ? await transport() : transport;
}

function missingCapabilities(transport: Transport, check: TransportCheck): string[] {
  // Read defensively: the shape check reports a malformed manifest; here it only means "skip".
  const capabilities = (transport.capabilities ?? {}) as unknown as Record<string, unknown>;
  return check.requires.filter((name) => capabilities[name] !== true);
}

/**
 * Register the bentoport transport conformance checks as vitest tests. Checks that need a
 * capability the transport does not declare are reported as skipped.
 *
 * @example
 * ```ts
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { runTransportSuite } from '@bentoport/transport-test-suite';
 * import { fsTransport } from '@bentoport/transport-fs';
 *
 * let root = '';
 * runTransportSuite({
 *   name: 'transport-fs',
 *   transport: fsTransport(),
 *   setup: async () => { root = await mkdtemp(join(tmpdir(), 'bentoport-fs-')); },
 *   teardown: () => rm(root, { recursive: true, force: true }),
 *   location: (relativePath) => {
 *     const path = join(root, relativePath);
 *     return { protocol: 'file', host: '', path, query: '', display: path };
 *   },
 * });
 * ```
 */
export function runTransportSuite(options: TransportSuiteOptions): void {
  validate(options);
  describe(`transport conformance: ${options.name}`, async () => {
    const transport = await resolveTransport(options.transport);
    const context: CheckContext = {
      transport,
      location: async (relativePath) => options.location(relativePath),
      highWaterMark: options.highWaterMark,
    };
    beforeAll(async () => {
      await options.setup?.();
    });
    afterAll(async () => {
      await options.teardown?.();
    });
    const groups = [...new Set(TRANSPORT_CHECKS.map((check) => check.group))];
    for (const group of groups) {
      describe(group, () => {
        for (const check of TRANSPORT_CHECKS.filter((candidate) => candidate.group === group)) {
          const missing = missingCapabilities(transport, check);
          it.skipIf(missing.length > 0)(check.title, () => check.run(context), CHECK_TIMEOUT_MILLISECONDS);
        }
      });
    }
  });
}
