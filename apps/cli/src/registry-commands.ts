import { existsSync } from 'node:fs';
import path from 'node:path';
import { redact } from '@bentoport/plugin-kit';
import { defaultHome, itemReference, readBentofileModels, readDefaultRegistry, registryAddress, type Bentoport, type PullOptions, type PullResult, type PushResult, type Registry } from '@bentoport/core';
import { describe, UsageError, type OptionValues } from './command-line.js';
import type { PluginCatalog } from './plugin-discovery.js';
import { loadRegistry } from './plugin-loading.js';
import { dryRunPull, dryRunPush, type DryRunOutput } from './dry-run-commands.js';
import { signaturePolicyOption, signerOption, verifyOptions } from './signing-commands.js';

/**
 * BentoCloud is the registry when none is configured but BentoML is logged in (`.yatai.yaml`, or
 * `BENTO_CLOUD_API_KEY`) or a `--context` is given, as `bentoml push` does.
 */
function defaultRegistryUrl(values: OptionValues, home: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const loggedIn = Boolean(env.BENTO_CLOUD_API_KEY) || existsSync(path.join(home ?? defaultHome(env), '.yatai.yaml'));
  return loggedIn || typeof values.context === 'string' ? 'bentocloud://' : undefined;
}

/**
 * The BentoCloud context a `bentocloud://CONTEXT` address names: @bentoport/registry-bentocloud
 * takes its context as an option, not from `url`.
 */
function bentoCloudContext(url: string): string | undefined {
  return /^bentocloud:\/\/([^/]+)/i.exec(url)?.[1];
}

/**
 * `-t/--threads N` as a registry's `concurrency` (BentoCloud: multipart parts in flight), checked
 * here so a typo is a usage error before any connection.
 */
function threadsOption(values: OptionValues): number | undefined {
  if (values.threads === undefined) return undefined;
  const text = String(values.threads);
  const threads = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(threads) || threads < 1) throw new UsageError(`invalid --threads '${text}' (a whole number, 1 or more)`, 'push');
  return threads;
}

/**
 * What a registry plugin's factory receives: its address, the environment, and the registry flags
 * the user gave (`--home`, `--context`, `--plain-http`, `--insecure` as `rejectUnauthorized: false`,
 * `--threads` as `concurrency`). A plugin takes what it knows.
 */
function registryOptions(url: string, scheme: string, values: OptionValues, home: string | undefined, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const context = typeof values.context === 'string' ? values.context : scheme === 'bentocloud' ? bentoCloudContext(url) : undefined;
  const concurrency = threadsOption(values);
  return {
    ...(concurrency === undefined ? {} : { concurrency }),
    url,
    env,
    ...(home === undefined ? {} : { home }),
    ...(context === undefined ? {} : { context }),
    ...(values['plain-http'] ? { plainHttp: true } : {}),
    // The plugin kit's NetworkOptions name for it, which every networked plugin shares.
    ...(values.insecure ? { rejectUnauthorized: false } : {}),
  };
}

/**
 * The registry a push or pull talks to: the one a docker-style argument names
 * (`HOST[:PORT][/REPOSITORY]/NAME[:VERSION]`), else `--registry`, `BENTOPORT_REGISTRY` or the config
 * file (else BentoCloud when logged in); a docker-style `HOST[:PORT]/REPOSITORY` there means
 * `oci://HOST[:PORT]/REPOSITORY`. The installed registry plugin serving the address's scheme is
 * imported only now.
 */
export async function registriesFor(values: OptionValues, env: NodeJS.ProcessEnv, catalog: () => Promise<PluginCatalog>, positionals: readonly string[] = []): Promise<Registry[]> {
  const home = typeof values.home === 'string' ? path.resolve(values.home) : undefined;
  const url = commandLineRegistry(values, positionals) ?? (await configuredRegistry(env)) ?? defaultRegistryUrl(values, home, env);
  if (url === undefined) return [];
  const scheme = /^([a-z][a-z0-9+.-]*)(?::\/\/|$)/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) throw new UsageError(`invalid registry '${redact(url)}' (an address such as oci://HOST[:PORT]/REPOSITORY or bentocloud[://CONTEXT])`);
  return [await loadRegistry(await catalog(), scheme, redact(url), registryOptions(url, scheme, values, home, env))];
}

/** The tag of a push/pull argument: `NAME[:VERSION]`, also when it is a docker-style reference. */
export function itemTag(argument: string): string {
  return usage(() => itemReference(argument))?.tag ?? argument;
}

/** A mistake in an address given on the command line is a usage error (exit 2), not a failed push. */
function usage<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * The registry the command line names: by the argument (docker-style) or by `--registry`. When both
 * do, they must agree: pushing `HOST/team/svc:v1` to another registry is surely a mistake.
 */
function commandLineRegistry(values: OptionValues, positionals: readonly string[]): string | undefined {
  const fromArgument = positionals[0] === undefined ? undefined : usage(() => itemReference(positionals[0] as string))?.registry;
  const fromOption = typeof values.registry === 'string' ? usage(() => registryAddress(values.registry as string)) : undefined;
  if (fromArgument !== undefined && fromOption !== undefined && redact(fromArgument) !== redact(fromOption)) {
    throw new UsageError(`'${redact(positionals[0] as string)}' names the registry ${redact(fromArgument)}, but --registry is ${redact(fromOption)}`);
  }
  return fromArgument ?? fromOption;
}

/** `BENTOPORT_REGISTRY` or the config file's `registry:`, docker-style addresses included. */
async function configuredRegistry(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const configured = (await readDefaultRegistry(env))?.url;
  return configured === undefined ? undefined : registryAddress(configured);
}

interface RegistryCommandContext {
  bentoport: Bentoport;
  /** A dry run's report, printed even with --quiet. */
  write(text: string): void;
  kind: 'bento' | 'model';
  positionals: string[];
  values: OptionValues;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  print(text: string): void;
  printJson(value: unknown): void;
  finishProgress(): void;
}

function dryRunOutputOf(context: RegistryCommandContext): DryRunOutput {
  return { json: Boolean(context.values.json), write: context.write };
}

function pushLine(result: PushResult, type: string): string {
  if (result.skipped) return `${type}(tag="${result.tag}") already in ${result.registry}; nothing pushed.`;
  const sent = result.bytesUploaded === undefined ? '' : ` (${result.bytesUploaded} bytes sent, ${result.bytesSkipped ?? 0} already there)`;
  return `${type}(tag="${result.tag}") pushed to ${result.location ?? result.registry}${sent}.`;
}

export async function runPush(context: RegistryCommandContext): Promise<void> {
  const tag = itemTag(context.positionals[0] as string);
  const label = describe(context.kind === 'bento' ? 'bentos' : 'models', 'push');
  if (context.values.key !== undefined && !context.values.sign) throw new UsageError('--key needs --sign (sign the item on the way out)', label);
  const options = { force: Boolean(context.values.force), signal: context.signal, ...(context.values.sign ? { sign: signerOption(context, label) } : {}) };
  if (context.values['dry-run']) return dryRunPush(context.bentoport, context.kind, tag, options, dryRunOutputOf(context));
  const result = context.kind === 'bento' ? await context.bentoport.push(tag, options) : await context.bentoport.pushModel(tag, options);
  context.finishProgress();
  if (context.values.json) return context.printJson(result);
  context.print(pushLine(result, context.kind === 'bento' ? 'Bento' : 'Model'));
  if (result.signed) context.print(`Signature attached in ${result.registry}.`);
}

function pullJson(result: PullResult): Record<string, unknown> {
  const { item, ...rest } = result;
  return { tag: `${item.tag.name}:${item.tag.version}`, kind: item.kind, path: item.path, ...rest };
}

export async function runPull(context: RegistryCommandContext): Promise<void> {
  if (context.values['with-models'] && context.values['without-models']) {
    throw new UsageError('--with-models and --without-models exclude each other', 'pull');
  }
  const tag = context.positionals[0] === undefined ? undefined : itemTag(context.positionals[0]);
  // As `bentoml models pull`: without a tag, the models a bentofile lists (bentofile.yaml here by default).
  if (tag === undefined) return pullBentofileModels(context, typeof context.values.bentofile === 'string' ? context.values.bentofile : 'bentofile.yaml');
  if (context.values['dry-run']) return dryRunPull(context.bentoport, context.kind, tag, pullOptions(context), dryRunOutputOf(context));
  const result = await pullOne(context, tag);
  context.finishProgress();
  if (context.values.json) return context.printJson(pullJson(result));
  printPulled(context, result);
}

function pullOptions(context: RegistryCommandContext): PullOptions {
  const label = describe(context.kind === 'bento' ? 'bentos' : 'models', 'pull');
  if (!context.values['require-signature'] && (context.values['allowed-signers'] !== undefined || context.values.principal !== undefined)) {
    throw new UsageError('--allowed-signers and --principal need --require-signature', label);
  }
  return {
    force: Boolean(context.values.force),
    withModels: !context.values['without-models'],
    signal: context.signal,
    ...(context.values['require-signature'] ? { requireSignature: verifyOptions(context, label) } : {}),
  };
}

async function pullOne(context: RegistryCommandContext, tag: string): Promise<PullResult> {
  const options = pullOptions(context);
  // A policy applies unless --require-signature asks for a check of its own.
  const signaturePolicy = options.requireSignature === undefined ? await signaturePolicyOption(context) : undefined;
  if (signaturePolicy) options.signaturePolicy = signaturePolicy;
  return context.kind === 'bento' ? context.bentoport.pull(tag, options) : context.bentoport.pullModel(tag, options);
}

/** Each model of the bentofile in turn; `--json` prints them as one list. */
async function pullBentofileModels(context: RegistryCommandContext, bentofile: string): Promise<void> {
  const results: PullResult[] = [];
  for (const model of await readBentofileModels(path.resolve(bentofile))) {
    context.signal.throwIfAborted();
    if (context.values['dry-run']) {
      await dryRunPull(context.bentoport, context.kind, model.tag, pullOptions(context), dryRunOutputOf(context));
      continue;
    }
    results.push(await pullOne(context, model.tag));
  }
  context.finishProgress();
  if (context.values.json) return context.printJson(results.map(pullJson));
  for (const result of results) printPulled(context, result);
}

function printPulled(context: RegistryCommandContext, result: PullResult): void {
  const type = context.kind === 'bento' ? 'Bento' : 'Model';
  const tagText = `${result.item.tag.name}:${result.item.tag.version}`;
  context.print(result.skipped ? `${type}(tag="${tagText}") is already in the local store.` : `${type}(tag="${tagText}") pulled from ${result.registry}.`);
  if (result.modelsPulled.length > 0) context.print(`Models pulled: ${result.modelsPulled.join(', ')}.`);
  if (result.signedBy) context.print(`Signature verified: signed by ${result.signedBy.principal} (${result.signedBy.keyFingerprint}).`);
}
