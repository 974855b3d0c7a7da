import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Registry } from '@bentoport/spec';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { checkContext, namePrefix, type CheckContext } from './check-context.js';
import { REGISTRY_CHECKS } from './checks/index.js';
import type { RegistrySource, RegistrySuiteOptions } from './suite-options.js';

/** Every check bounds its own waits; this only catches what slips through. */
const CHECK_TIMEOUT_MILLISECONDS = 180_000;

function isSource(value: unknown): value is RegistrySource {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

function validate(options: RegistrySuiteOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('runRegistrySuite: options must be an object');
  if (!isSource(options.registry)) throw new TypeError('runRegistrySuite: options.registry must be a Registry or a function returning one');
  if (options.badCredentials !== undefined && !isSource(options.badCredentials)) {
    throw new TypeError('runRegistrySuite: options.badCredentials must be a Registry or a function returning one');
  }
  if (options.secrets !== undefined && !(Array.isArray(options.secrets) && options.secrets.every((secret) => typeof secret === 'string' && secret !== ''))) {
    throw new TypeError('runRegistrySuite: options.secrets must be an array of non-empty strings');
  }
  if (options.skip !== undefined) {
    if (typeof options.skip !== 'object' || options.skip === null) throw new TypeError('runRegistrySuite: options.skip must be an object of check ids and reasons');
    const unknown = Object.keys(options.skip).filter((id) => !REGISTRY_CHECKS.some((check) => check.id === id));
    if (unknown.length > 0) throw new TypeError(`runRegistrySuite: options.skip names no check: ${unknown.join(', ')}`);
  }
}

async function resolve(source: RegistrySource): Promise<Registry> {
  return typeof source === 'function' ? await source() : source;
}

/**
 * Register the bentoport registry conformance checks as vitest tests. The registry is made after
 * `setup`; checks that need a capability it does not declare (or a `badCredentials` registry, or
 * `list`) are reported as skipped with the reason. Each check pushes items of its own, under names
 * no earlier run used, from a scratch directory removed afterwards.
 *
 * @example
 * ```ts
 * import { runRegistrySuite } from '@bentoport/registry-test-suite';
 * import { fooRegistry } from './index.js';
 *
 * runRegistrySuite({
 *   registry: () => fooRegistry({ url: process.env.FOO_URL!, token: process.env.FOO_TOKEN! }),
 *   badCredentials: () => fooRegistry({ url: process.env.FOO_URL!, token: 'wrong' }),
 *   secrets: [process.env.FOO_TOKEN!, 'wrong'],
 * });
 * ```
 */
export function runRegistrySuite(options: RegistrySuiteOptions): void {
  validate(options);
  const name = options.name ?? (typeof options.registry === 'object' ? options.registry.name : 'registry');
  const skip = options.skip ?? {};
  describe(`registry conformance: ${name}`, () => {
    let context: CheckContext | undefined;
    let scratch = '';
    beforeAll(async () => {
      await options.setup?.();
      scratch = await mkdtemp(path.join(tmpdir(), 'bentoport-registry-suite-'));
      const badCredentials = options.badCredentials === undefined ? undefined : await resolve(options.badCredentials);
      context = checkContext(await resolve(options.registry), badCredentials, options.secrets ?? [], scratch, namePrefix());
    }, CHECK_TIMEOUT_MILLISECONDS);
    afterAll(async () => {
      if (scratch !== '') await rm(scratch, { recursive: true, force: true });
      await options.teardown?.();
    }, CHECK_TIMEOUT_MILLISECONDS);
    for (const check of REGISTRY_CHECKS) {
      const reason = skip[check.id];
      if (reason !== undefined) {
        it.skip(`${check.title} [${check.id}] (skipped: ${reason})`, () => {});
        continue;
      }
      it(`${check.title} [${check.id}]`, async (test) => {
        if (context === undefined) throw new Error('runRegistrySuite: the registry was not made (see the beforeAll failure)');
        const notApplicable = check.notApplicable?.(context);
        if (notApplicable !== undefined) test.skip(notApplicable);
        await check.run(context);
      }, CHECK_TIMEOUT_MILLISECONDS);
    }
  });
}
