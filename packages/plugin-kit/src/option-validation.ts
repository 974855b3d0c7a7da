import { BentoportError } from '@bentoport/spec';

/**
 * Checks for a plugin factory's options, so every plugin words a bad option the same way.
 *
 * A value of the wrong JavaScript type is a programmer's mistake: a `TypeError`. A value of the
 * right type that is out of range (a negative timeout, a non-integer count) came from a user's
 * configuration: a coded `ERR_INVALID_OPTION` naming the plugin, the option and the value.
 */
export interface OptionChecks {
  /** A safe integer from `minimum` to `maximum`, or `fallback` when undefined. */
  integer(name: string, value: unknown, fallback: number, minimum?: number, maximum?: number): number;
  /** A boolean, or `fallback` when undefined. */
  boolean(name: string, value: unknown, fallback: boolean): boolean;
  /** One of `allowed`, or `fallback` when undefined. */
  oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T;
  /** A non-empty string, or undefined when undefined. */
  optionalString(name: string, value: unknown): string | undefined;
  /** The options object itself: a TypeError unless it is an object (undefined is `{}`). */
  object<T extends object>(options: T | undefined): T;
  /**
   * Refuse options that were renamed: for each `old` name in `renames` that `options` sets (to
   * anything but undefined), an ERR_INVALID_OPTION `[component] options.old was renamed: use
   * <renames[old]>`. Without it, a configuration written for an earlier release would be accepted
   * and its setting silently lost (`insecure: true` would leave TLS verification on).
   * @example check.renamed(options, { insecure: 'rejectUnauthorized: false', attempts: 'retries (counted after the first try)' })
   */
  renamed(options: object | undefined, renames: Readonly<Record<string, string>>): void;
  /** The ERR_INVALID_OPTION for a check of the plugin's own: `[component] options.name must be expected, got value`. */
  invalid(name: string, expected: string, value: unknown): BentoportError;
}

/**
 * The option checks of one plugin: `component` is its name as messages show it (`transport-ftp`).
 * @example
 * ```ts
 * const check = optionChecks('transport-kv');
 * const partBytes = check.integer('partBytes', options.partBytes, 8 * 1024 * 1024, 1);
 * ```
 */
export function optionChecks(component: string): OptionChecks {
  const typeError = (name: string, expected: string, value: unknown) =>
    new TypeError(`${component}: options.${name} must be ${expected}, got ${value === null ? 'null' : typeof value}`);
  const invalid = (name: string, expected: string, value: unknown) =>
    new BentoportError('ERR_INVALID_OPTION', `[${component}] options.${name} must be ${expected}, got ${JSON.stringify(value)}`, {
      details: { option: name },
    });
  return {
    integer(name, value, fallback, minimum = 0, maximum = Number.MAX_SAFE_INTEGER) {
      if (value === undefined) return fallback;
      if (typeof value !== 'number') throw typeError(name, 'a number', value);
      if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
        const expected =
          maximum !== Number.MAX_SAFE_INTEGER ? `an integer from ${minimum} to ${maximum}`
          : minimum === 0 ? 'a non-negative integer'
          : `an integer of at least ${minimum}`;
        throw invalid(name, expected, value);
      }
      return value;
    },
    boolean(name, value, fallback) {
      if (value === undefined) return fallback;
      if (typeof value !== 'boolean') throw typeError(name, 'a boolean', value);
      return value;
    },
    oneOf(name, value, allowed, fallback) {
      if (value === undefined) return fallback;
      if (typeof value !== 'string') throw typeError(name, 'a string', value);
      if (!(allowed as readonly string[]).includes(value)) throw invalid(name, `one of ${allowed.map((item) => `'${item}'`).join(', ')}`, value);
      return value as (typeof allowed)[number];
    },
    optionalString(name, value) {
      if (value === undefined) return undefined;
      if (typeof value !== 'string') throw typeError(name, 'a string', value);
      if (value === '') throw invalid(name, 'a non-empty string', value);
      return value;
    },
    object(options) {
      if (options === undefined) return {} as NonNullable<typeof options>;
      if (typeof options !== 'object' || options === null) throw new TypeError(`${component}: options must be an object`);
      return options;
    },
    renamed(options, renames) {
      if (typeof options !== 'object' || options === null) return;
      for (const [name, replacement] of Object.entries(renames)) {
        if ((options as Record<string, unknown>)[name] === undefined) continue;
        throw new BentoportError('ERR_INVALID_OPTION', `[${component}] options.${name} was renamed: use ${replacement}`, {
          details: { option: name, replacement },
        });
      }
    },
    invalid,
  };
}
