import type { Registry } from '@bentoport/spec';

/** A registry, or a (possibly async) function making it. */
export type RegistrySource = Registry | (() => Registry | Promise<Registry>);

/** How {@link runRegistrySuite} reaches the registry under test. */
export interface RegistrySuiteOptions {
  /**
   * The registry, or a function making it. A function is called once, after `setup` (so it may
   * use a server `setup` started). Its items must be writable: the suite pushes fresh names.
   */
  registry: RegistrySource;
  /**
   * Shown in the test names: `registry conformance: <name>`.
   * @default the registry's `name` when `registry` is an object, else `registry`
   */
  name?: string;
  /**
   * The same registry with credentials it refuses, for the ERR_AUTH checks (called after `setup`).
   * @default undefined (the ERR_AUTH checks are skipped)
   */
  badCredentials?: RegistrySource;
  /**
   * Strings that must never appear in an error message the suite sees (passwords, tokens, the
   * bad credentials themselves).
   * @default []
   */
  secrets?: readonly string[];
  /** Runs once before the checks (vitest `beforeAll`): start a server. */
  setup?(): void | Promise<void>;
  /** Runs once after the checks (vitest `afterAll`): stop it. */
  teardown?(): void | Promise<void>;
  /**
   * Checks not to run, by id (`abort/push-mid-upload`; the README lists them), each with the
   * reason, shown in the skipped test's name. Meant for a known bug whose fix is under way: name it.
   * @default {}
   */
  skip?: Readonly<Record<string, string>>;
}
