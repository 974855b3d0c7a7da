import type { Format } from '@bentoport/spec';
import { describe, it } from 'vitest';
import { checkContexts, type CheckContext } from './check-context.js';
import { FORMAT_CHECKS, type FormatCheck } from './checks/index.js';
import type { FormatSuiteOptions } from './suite-options.js';

/** Every check bounds its own waits (10–30 s); this only catches what slips through. */
const CHECK_TIMEOUT_MILLISECONDS = 60_000;

function validate(options: FormatSuiteOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('runFormatSuite: options must be an object');
  if (typeof options.format !== 'object' && typeof options.format !== 'function') {
    throw new TypeError('runFormatSuite: options.format must be a Format or a function returning one');
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) throw new TypeError('runFormatSuite: options.name must be a non-empty string');
  if (options.formats !== undefined && (!Array.isArray(options.formats) || options.formats.length === 0)) {
    throw new TypeError('runFormatSuite: options.formats must be a non-empty array of tokens');
  }
  if (options.skip !== undefined) {
    if (typeof options.skip !== 'object' || options.skip === null) throw new TypeError('runFormatSuite: options.skip must be an object of check ids and reasons');
    const unknown = Object.keys(options.skip).filter((id) => !FORMAT_CHECKS.some((check) => check.id === id));
    if (unknown.length > 0) throw new TypeError(`runFormatSuite: options.skip names no check: ${unknown.join(', ')}`);
  }
  const { readAheadBytes } = options;
  if (readAheadBytes !== undefined && !(Number.isSafeInteger(readAheadBytes) && readAheadBytes >= 0)) {
    throw new TypeError('runFormatSuite: options.readAheadBytes must be a non-negative integer');
  }
}

async function resolveFormat(format: FormatSuiteOptions['format']): Promise<Format> {
  return typeof format === 'function' ? await format() : format;
}

function tokensUnderTest(format: Format, requested: readonly string[] | undefined): readonly string[] {
  const declared = Array.isArray(format.formats) ? format.formats : [];
  const tokens = requested ?? declared;
  const unknown = tokens.filter((token) => !declared.includes(token));
  if (unknown.length > 0) throw new TypeError(`runFormatSuite: ${unknown.join(', ')} is not among the format's tokens (${declared.join(', ')})`);
  return tokens;
}

/** Why a check is skipped for this format, or undefined when it runs. */
function skipReason(format: Format, check: FormatCheck, skip: Readonly<Record<string, string>>): string | undefined {
  if (skip[check.id] !== undefined) return skip[check.id];
  // Read defensively: the shape check reports a malformed manifest; here it only means "skip".
  const capabilities = (format.capabilities ?? {}) as unknown as Record<string, unknown>;
  const unmet = Object.entries(check.requires).filter(([name, value]) => capabilities[name] !== value);
  return unmet.length === 0 ? undefined : unmet.map(([name, value]) => `capabilities.${name} is not ${String(value)}`).join(', ');
}

function register(checks: readonly FormatCheck[], format: Format, context: CheckContext, skip: Readonly<Record<string, string>>): void {
  const groups = [...new Set(checks.map((check) => check.group))];
  for (const group of groups) {
    describe(group, () => {
      for (const check of checks.filter((candidate) => candidate.group === group)) {
        const reason = skipReason(format, check, skip);
        it.skipIf(reason !== undefined)(reason === undefined ? `${check.title} [${check.id}]` : `${check.title} [${check.id}] (skipped: ${reason})`, () => check.run(context), CHECK_TIMEOUT_MILLISECONDS);
      }
    });
  }
}

/**
 * Register the bentoport format conformance checks as vitest tests: format-wide checks once, the
 * others once per token under test. Checks that need a capability the format does not declare are
 * reported as skipped, with the reason in their title.
 *
 * @example
 * ```ts
 * import { runFormatSuite } from '@bentoport/format-test-suite';
 * import { tarFormat } from '@bentoport/format-tar';
 *
 * runFormatSuite({ format: tarFormat({ concurrency: 2 }) });
 * ```
 */
export function runFormatSuite(options: FormatSuiteOptions): void {
  validate(options);
  const name = options.name ?? (typeof options.format === 'object' ? options.format.name : 'format');
  describe(`format conformance: ${name}`, async () => {
    const format = await resolveFormat(options.format);
    const tokens = tokensUnderTest(format, options.formats);
    const contextFor = checkContexts(format, tokens, options.readAheadBytes ?? 0);
    describe('format-wide', () => {
      register(FORMAT_CHECKS.filter((check) => check.scope === 'format'), format, contextFor(tokens[0] as string), options.skip ?? {});
    });
    for (const token of tokens) {
      describe(`token ${token}`, () => {
        register(FORMAT_CHECKS.filter((check) => check.scope === 'token'), format, contextFor(token), options.skip ?? {});
      });
    }
  });
}
