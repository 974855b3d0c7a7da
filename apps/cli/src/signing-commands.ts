import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { bentoportConfigPath, loadSignaturePolicy, type Bentoport, type SignaturePolicy, type Signer, type VerifyOptions } from '@bentoport/core';
import { sshSigner, sshVerifier } from '@bentoport/signer-ssh';
import { describe, UsageError, type Group, type OptionValues } from './command-line.js';

/**
 * `sign`, `verify` and `manifest`. Keys and policies are SSH's own files (a key file or an agent's
 * key by its `.pub`; `allowed_signers`), so the SSH signer is the one these commands use.
 */

/** What the signing commands need of the command context. */
export interface SigningContext {
  bentoport: Bentoport;
  group: Group;
  positionals: string[];
  values: OptionValues;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  print(text: string): void;
  write(text: string): void;
  printJson(value: unknown): void;
  json: boolean;
}

/** `~/x` as the shell would expand it: a path from a config or an environment variable may carry it. */
function expandHome(file: string): string {
  return file === '~' || file.startsWith('~/') ? path.join(homedir(), file.slice(1)) : file;
}

/** The parts of a command's context that the signing options read. */
type OptionSource = Pick<SigningContext, 'values' | 'env'>;

/** The flag's value, else the environment variable's, else a usage error naming both. */
function requiredPath(context: OptionSource, flag: string, variable: string, command: string): string {
  const value = context.values[flag];
  const chosen = typeof value === 'string' && value !== '' ? value : context.env[variable];
  if (chosen === undefined || chosen === '') throw new UsageError(`'${command}' needs --${flag} FILE (or ${variable})`, command);
  return expandHome(chosen);
}

/** `--key FILE` (or BENTOPORT_SIGNING_KEY) as a signer. */
export function signerOption(context: OptionSource, command: string): Signer {
  return sshSigner({ keyFile: requiredPath(context, 'key', 'BENTOPORT_SIGNING_KEY', command) });
}

/** `--allowed-signers FILE` (or BENTOPORT_ALLOWED_SIGNERS) and `--principal P` as a verification policy. */
export function verifyOptions(context: OptionSource, command: string): VerifyOptions {
  const allowedSignersFile = requiredPath(context, 'allowed-signers', 'BENTOPORT_ALLOWED_SIGNERS', command);
  const principal = typeof context.values.principal === 'string' ? context.values.principal : undefined;
  return { verifier: sshVerifier({ allowedSignersFile }), ...(principal === undefined ? {} : { principal }) };
}

/**
 * `--policy FILE`, else BENTOPORT_POLICY, else `policy.yaml` beside bentoport's config file
 * (`~/.config/bentoport/policy.yaml`) when there is one; undefined without any.
 */
export async function signaturePolicyOption(context: OptionSource): Promise<SignaturePolicy | undefined> {
  const flag = context.values.policy;
  const chosen = typeof flag === 'string' && flag !== '' ? flag : context.env.BENTOPORT_POLICY;
  const beside = path.join(path.dirname(bentoportConfigPath(context.env)), 'policy.yaml');
  const file = chosen !== undefined && chosen !== '' ? expandHome(chosen) : existsSync(beside) ? beside : undefined;
  return file === undefined ? undefined : loadSignaturePolicy(file, { verifierFor: (allowedSignersFile) => sshVerifier({ allowedSignersFile }) });
}

/** A `verify` argument that names an archive or folder (a URL or a path), not a store tag. */
export function isArchiveArgument(argument: string): boolean {
  return argument.includes('/') || argument.includes('://') || existsSync(argument);
}

function typeName(context: SigningContext): string {
  return context.group === 'models' ? 'Model' : 'Bento';
}

/** `sign TAG --key FILE`: sign the item's content manifest; the signature goes beside it in the store. */
export async function runSign(context: SigningContext): Promise<void> {
  const keyFile = requiredPath(context, 'key', 'BENTOPORT_SIGNING_KEY', describe(context.group, 'sign'));
  const tag = context.positionals[0] as string;
  const options = { signer: sshSigner({ keyFile }), signal: context.signal };
  const result = context.group === 'models' ? await context.bentoport.signModel(tag, options) : await context.bentoport.signBento(tag, options);
  if (context.json) return context.printJson(result);
  context.print(`${typeName(context)}(tag="${result.tag}") signed with ${keyFile}.`);
  context.print(`Signature: ${result.signaturePath}`);
}

/**
 * `verify ARCHIVE|URL|FOLDER`: the archive against the `.sig` beside it, by `--allowed-signers`
 * or else the signature policy, without installing it.
 */
async function runVerifyArchive(context: SigningContext, source: string): Promise<void> {
  const command = describe(context.group, 'verify');
  const explicit = context.values['allowed-signers'] !== undefined || context.env.BENTOPORT_ALLOWED_SIGNERS;
  const signaturePolicy = explicit ? undefined : await signaturePolicyOption(context);
  if (!explicit && signaturePolicy === undefined) throw new UsageError(`'${command}' needs --allowed-signers FILE (or BENTOPORT_ALLOWED_SIGNERS), or a signature policy (--policy FILE)`, command);
  const format = typeof context.values.format === 'string' ? context.values.format : undefined;
  const options = { signal: context.signal, ...(signaturePolicy ? { signaturePolicy } : { requireSignature: verifyOptions(context, command) }) };
  const result = context.group === 'models' ? await context.bentoport.verifyModelArchive(source, format, options) : await context.bentoport.verifyBentoArchive(source, format, options);
  if (context.json) return context.printJson(result);
  context.print(`${typeName(context)}(tag="${result.tag}") in ${result.source} verified: signed by ${result.principal} (${result.keyFingerprint}).`);
}

/**
 * `verify TAG --allowed-signers FILE [--principal P]`: who signed, and is the content still what
 * they signed. A path or URL instead of a tag verifies that archive (see runVerifyArchive).
 */
export async function runVerify(context: SigningContext): Promise<void> {
  const tag = context.positionals[0] as string;
  if (isArchiveArgument(tag)) return runVerifyArchive(context, tag);
  const options = verifyOptions(context, describe(context.group, 'verify'));
  const result = context.group === 'models' ? await context.bentoport.verifyModel(tag, options) : await context.bentoport.verifyBento(tag, options);
  if (context.json) return context.printJson(result);
  context.print(`${typeName(context)}(tag="${result.tag}") verified: signed by ${result.principal} (${result.keyFingerprint}).`);
}

/** `manifest TAG`: the content manifest a signature covers, exactly as signed. */
export async function runManifest(context: SigningContext): Promise<void> {
  const tag = context.positionals[0] as string;
  const manifest = context.group === 'models' ? await context.bentoport.modelManifest(tag) : await context.bentoport.bentoManifest(tag);
  context.write(manifest.toString('utf8'));
}
