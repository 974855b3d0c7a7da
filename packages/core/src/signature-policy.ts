import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BentoportError, type DetachedSignature, type SignatureVerifier, type VerifiedSignature } from '@bentoport/spec';
import type { VerifyOptions } from './item-signatures.js';

/**
 * A signature policy: which signers each source of items requires, set once (by CI, say) for
 * every import, pull and verify, after containers' `policy.json`. A yaml (or JSON) file:
 *
 * ```yaml
 * default: reject                        # sources no entry matches
 * sources:
 *   s3://models/prod:                    # a bucket prefix
 *     signedBy:
 *       allowedSigners: ./allowed_signers  # relative to this file
 *       principals: [ci@example.com]      # any one of them; omitted: anyone the file lists
 *   oci://registry.example.com/team:     # a registry repository (and the ones below it)
 *     signedBy: { allowedSigners: /etc/bentoport/team_signers }
 *   /srv/drop:                           # a local directory
 *     insecureAcceptAnything
 * ```
 *
 * A source is what an import or verify reads (`s3://bucket/key.bento`, `/srv/drop/svc.tar`, an
 * HTTP URL without its query; `-`, a stream, gets the default) or a pull's repository
 * (`oci://host/repo/name`: the registry's URL and the item's name). An entry matches the
 * source itself and everything below it (at a `/`); the longest matching entry wins, else
 * `default`. Local entries are resolved against the policy file's directory.
 */

/** What a policy says of a source. */
export type SignatureRule =
  | { type: 'insecureAcceptAnything' }
  | { type: 'reject' }
  | { type: 'signedBy'; allowedSigners: string; principals: readonly string[] };

/** The rule a source falls under, and the entry that chose it (`default` when none matched). */
export interface MatchedRule {
  rule: SignatureRule;
  /** The policy entry that matched, as written, or `default`. */
  entry: string;
}

/** A policy read from a file or a document. */
export interface SignaturePolicy {
  /** Where the policy came from, for messages (its file). */
  origin: string;
  /** The rule for `source` (a URL or an absolute path): the longest matching entry, else the default. */
  ruleFor(source: string): MatchedRule;
  /** Makes the verifier of a `signedBy` rule's allowed-signers file. */
  verifierFor(allowedSignersFile: string): SignatureVerifier;
}

/** Options of {@link parseSignaturePolicy} and {@link loadSignaturePolicy}. */
export interface SignaturePolicyOptions {
  /**
   * Makes the verifier for an allowed-signers file: `(file) => sshVerifier({ allowedSignersFile: file })`
   * with `@bentoport/signer-ssh`.
   */
  verifierFor(allowedSignersFile: string): SignatureVerifier;
  /** Where relative local paths in the policy are taken from. @default the policy file's directory */
  baseDirectory?: string;
}

const RULE_TYPES = ['insecureAcceptAnything', 'reject', 'signedBy'] as const;

function invalid(origin: string, where: string, what: string): BentoportError {
  return new BentoportError('ERR_INVALID_OPTION', `signature policy ${origin}: ${where}: ${what}`);
}

/** One rule: `reject`, `insecureAcceptAnything`, or `{ signedBy: { allowedSigners, principals? } }`. */
function parseRule(value: unknown, origin: string, where: string, baseDirectory: string): SignatureRule {
  if (value === 'reject' || value === 'insecureAcceptAnything') return { type: value };
  const body = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const keys = body === undefined ? [] : Object.keys(body);
  if (body === undefined || keys.length !== 1 || !RULE_TYPES.includes(keys[0] as (typeof RULE_TYPES)[number])) {
    throw invalid(origin, where, `expected one of ${RULE_TYPES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  if (keys[0] !== 'signedBy') return { type: keys[0] as 'reject' | 'insecureAcceptAnything' };
  const signedBy = body.signedBy as Record<string, unknown> | null;
  const allowedSigners = signedBy?.allowedSigners;
  if (typeof allowedSigners !== 'string' || allowedSigners === '') throw invalid(origin, where, 'signedBy needs allowedSigners: FILE');
  const principals = signedBy?.principals ?? [];
  if (!Array.isArray(principals) || !principals.every((principal) => typeof principal === 'string' && principal !== '')) {
    throw invalid(origin, where, 'signedBy.principals must be a list of principals');
  }
  return { type: 'signedBy', allowedSigners: path.resolve(baseDirectory, allowedSigners), principals: principals as string[] };
}

/**
 * A source or entry without credentials (a registry's URL is shown without them) and without a
 * trailing `/` (so `s3://b/prod/` and `s3://b/prod` are one entry); a local path absolute.
 */
function normaliseSource(source: string, baseDirectory: string): string {
  const url = /^([a-z][a-z0-9+.-]*:\/\/)(?:[^/@]*@)?(.*)$/i.exec(source);
  const absolute = url ? `${url[1]}${url[2]}` : path.resolve(baseDirectory, source);
  return absolute.length > 1 ? absolute.replace(/\/+$/, '') : absolute;
}

/** Whether `entry` covers `source`: the same, or `source` lies below it. */
function covers(entry: string, source: string): boolean {
  return source === entry || source.startsWith(entry.endsWith('/') ? entry : `${entry}/`);
}

/**
 * A policy from its parsed document.
 * @throws {BentoportError} ERR_INVALID_OPTION naming the entry that is not a rule.
 */
export function parseSignaturePolicy(document: unknown, origin: string, options: SignaturePolicyOptions): SignaturePolicy {
  const baseDirectory = options.baseDirectory ?? process.cwd();
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw invalid(origin, 'the file', 'must be a yaml or JSON mapping');
  const { default: fallback, sources = {}, ...unknown } = document as Record<string, unknown>;
  const stray = Object.keys(unknown);
  if (stray.length > 0) throw invalid(origin, stray[0] as string, 'unknown key (expected default and sources)');
  if (fallback === undefined) throw invalid(origin, 'default', 'missing: say what happens to a source no entry matches (reject, insecureAcceptAnything or signedBy)');
  const defaultRule = parseRule(fallback, origin, 'default', baseDirectory);
  if (typeof sources !== 'object' || sources === null || Array.isArray(sources)) throw invalid(origin, 'sources', 'must be a mapping of source to rule');
  const entries = Object.entries(sources as Record<string, unknown>).map(([entry, rule]) => ({
    entry,
    key: normaliseSource(entry, baseDirectory),
    rule: parseRule(rule, origin, `sources["${entry}"]`, baseDirectory),
  }));
  // Longest first: the most specific entry that covers a source wins.
  entries.sort((a, b) => b.key.length - a.key.length);
  return {
    origin,
    verifierFor: options.verifierFor,
    ruleFor(source) {
      // A caller's stream has no place a policy could name.
      if (source === '-') return { rule: defaultRule, entry: 'default' };
      const normalised = normaliseSource(source.split('?')[0] as string, baseDirectory);
      const found = entries.find(({ key }) => covers(key, normalised));
      return found === undefined ? { rule: defaultRule, entry: 'default' } : { rule: found.rule, entry: found.entry };
    },
  };
}

/**
 * A policy from a yaml or JSON file; relative paths in it are taken from the file's directory.
 * @throws {BentoportError} ERR_NOT_FOUND when the file is missing, ERR_INVALID_OPTION when it is
 * not a policy.
 */
export async function loadSignaturePolicy(file: string, options: SignaturePolicyOptions): Promise<SignaturePolicy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new BentoportError('ERR_NOT_FOUND', `signature policy ${file} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new BentoportError('ERR_INVALID_OPTION', `signature policy ${file} is not valid yaml or JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseSignaturePolicy(document, file, { baseDirectory: path.dirname(path.resolve(file)), ...options });
}

/** A verifier that accepts a signature by any one of `principals` (the first that verifies). */
function anyPrincipal(verifier: SignatureVerifier, principals: readonly string[]): SignatureVerifier {
  return {
    ...verifier,
    async verify(message: Uint8Array, signature: DetachedSignature, namespace: string): Promise<VerifiedSignature> {
      let firstRefusal: unknown;
      for (const principal of principals) {
        try {
          return await verifier.verify(message, signature, namespace, principal);
        } catch (error) {
          firstRefusal ??= error;
        }
      }
      throw firstRefusal;
    },
  };
}

/** How messages name a policy entry: `signature policy FILE, sources["s3://models/prod"]`. */
function ruleName(policy: SignaturePolicy, entry: string): string {
  return `signature policy ${policy.origin}, ${entry === 'default' ? 'default' : `sources["${entry}"]`}`;
}

/** What an import, pull or verify was asked to require: a check of its own, or a policy. */
export interface SignatureRequirementOptions {
  requireSignature?: VerifyOptions;
  signaturePolicy?: SignaturePolicy;
}

/**
 * The signature check `source` needs: `requireSignature` when given (it overrides a policy), else
 * what `signaturePolicy` says of the source — undefined for `insecureAcceptAnything` or no policy.
 * @throws {BentoportError} ERR_SIGNATURE when the policy rejects the source, naming it and the rule.
 */
export function requiredSignature(options: SignatureRequirementOptions, source: string, subject: string, done: 'imported' | 'pulled' | 'verified'): VerifyOptions | undefined {
  if (options.requireSignature !== undefined || options.signaturePolicy === undefined) return options.requireSignature;
  const policy = options.signaturePolicy;
  const { rule, entry } = policy.ruleFor(source);
  const requiredBy = ruleName(policy, entry);
  if (rule.type === 'insecureAcceptAnything') return undefined;
  if (rule.type === 'reject') {
    throw new BentoportError('ERR_SIGNATURE', `${subject}: ${source} is refused by ${requiredBy} (reject), whatever its signature; nothing was ${done}`, {
      details: { reason: 'policy-reject', source, entry },
    });
  }
  const verifier = policy.verifierFor(rule.allowedSigners);
  const [only, ...more] = rule.principals;
  if (only === undefined) return { verifier, requiredBy };
  if (more.length === 0) return { verifier, principal: only, requiredBy };
  return { verifier: anyPrincipal(verifier, rule.principals), principal: rule.principals.join('" or "'), requiredBy };
}
