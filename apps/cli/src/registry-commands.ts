import { existsSync } from 'node:fs';
import path from 'node:path';
import { redact } from '@bentoport/plugin-kit';
import { defaultHome, readDefaultRegistry, type Bentoport, type PullResult, type PushResult, type Registry } from '@bentoport/core';
import { UsageError, type OptionValues } from './command-line.js';
import type { PluginCatalog } from './plugin-discovery.js';
import { loadRegistry } from './plugin-loading.js';
import { dryRunPull, dryRunPush, type DryRunOutput } from './dry-run-commands.js';

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
 * What a registry plugin's factory receives: its address, the environment, and the registry flags
 * the user gave (`--home`, `--context`, `--plain-http`, and `--insecure` as `rejectUnauthorized: false`).
 * A plugin takes what it knows.
 */
function registryOptions(url: string, scheme: string, values: OptionValues, home: string | undefined, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const context = typeof values.context === 'string' ? values.context : scheme === 'bentocloud' ? bentoCloudContext(url) : undefined;
  return {
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
 * The registry a push or pull talks to, from `--registry`, `BENTOPORT_REGISTRY` or the config
 * file (else BentoCloud when logged in): the installed registry plugin serving the address's
 * scheme (`oci` for `oci://HOST/REPOSITORY`), imported only now.
 */
export async function registriesFor(values: OptionValues, env: NodeJS.ProcessEnv, catalog: () => Promise<PluginCatalog>): Promise<Registry[]> {
  const home = typeof values.home === 'string' ? path.resolve(values.home) : undefined;
  const url = (typeof values.registry === 'string' ? values.registry : (await readDefaultRegistry(env))?.url) ?? defaultRegistryUrl(values, home, env);
  if (url === undefined) return [];
  const scheme = /^([a-z][a-z0-9+.-]*)(?::\/\/|$)/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) throw new UsageError(`invalid registry '${redact(url)}' (an address such as oci://HOST[:PORT]/REPOSITORY or bentocloud[://CONTEXT])`);
  return [await loadRegistry(await catalog(), scheme, redact(url), registryOptions(url, scheme, values, home, env))];
}

interface RegistryCommandContext {
  bentoport: Bentoport;
  /** A dry run's report, printed even with --quiet. */
  write(text: string): void;
  kind: 'bento' | 'model';
  positionals: string[];
  values: OptionValues;
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
  const tag = context.positionals[0] as string;
  const options = { force: Boolean(context.values.force), signal: context.signal };
  if (context.values['dry-run']) return dryRunPush(context.bentoport, context.kind, tag, options, dryRunOutputOf(context));
  const result = context.kind === 'bento' ? await context.bentoport.push(tag, options) : await context.bentoport.pushModel(tag, options);
  context.finishProgress();
  if (context.values.json) return context.printJson(result);
  context.print(pushLine(result, context.kind === 'bento' ? 'Bento' : 'Model'));
}

function pullJson(result: PullResult): Record<string, unknown> {
  const { item, ...rest } = result;
  return { tag: `${item.tag.name}:${item.tag.version}`, kind: item.kind, path: item.path, ...rest };
}

export async function runPull(context: RegistryCommandContext): Promise<void> {
  const tag = context.positionals[0] as string;
  if (context.values['with-models'] && context.values['without-models']) {
    throw new UsageError('--with-models and --without-models exclude each other', 'pull');
  }
  const options = { force: Boolean(context.values.force), withModels: !context.values['without-models'], signal: context.signal };
  if (context.values['dry-run']) return dryRunPull(context.bentoport, context.kind, tag, options, dryRunOutputOf(context));
  const result = context.kind === 'bento' ? await context.bentoport.pull(tag, options) : await context.bentoport.pullModel(tag, options);
  context.finishProgress();
  if (context.values.json) return context.printJson(pullJson(result));
  const type = context.kind === 'bento' ? 'Bento' : 'Model';
  const tagText = `${result.item.tag.name}:${result.item.tag.version}`;
  context.print(result.skipped ? `${type}(tag="${tagText}") is already in the local store.` : `${type}(tag="${tagText}") pulled from ${result.registry}.`);
  if (result.modelsPulled.length > 0) context.print(`Models pulled: ${result.modelsPulled.join(', ')}.`);
}
