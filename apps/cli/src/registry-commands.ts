import { existsSync } from 'node:fs';
import path from 'node:path';
import { defaultHome, readDefaultRegistry, type Bentoport, type PullResult, type PushResult, type Registry } from '@bentoport/core';
import { UsageError, type OptionValues } from './command-line.js';

/**
 * The registry a push or pull talks to, from `--registry`, `BENTOPORT_REGISTRY` or the config
 * file: URL schemes map to plugins here and nowhere else. The plugin is imported here, so other
 * commands never load it (see transport-loading.ts).
 */
export async function registriesFor(values: OptionValues, env: NodeJS.ProcessEnv): Promise<Registry[]> {
  const url = typeof values.registry === 'string' ? values.registry : (await readDefaultRegistry(env))?.url;
  // BentoCloud: `bentocloud[://CONTEXT]`, `--context`, or by default when BentoML is logged in (as `bentoml push`).
  if (url === undefined || /^bentocloud(:\/\/|$)/i.test(url)) {
    const home = typeof values.home === 'string' ? path.resolve(values.home) : undefined;
    const context = typeof values.context === 'string' ? values.context : url?.replace(/^bentocloud(:\/\/)?/i, '').replace(/\/+$/, '') || undefined;
    const loggedIn = Boolean(env.BENTO_CLOUD_API_KEY) || existsSync(path.join(home ?? defaultHome(env), '.yatai.yaml'));
    if (url === undefined && context === undefined && !loggedIn) return [];
    const { bentoCloudRegistry } = await import('@bentoport/registry-bentocloud');
    return [bentoCloudRegistry({ ...(context === undefined ? {} : { context }), ...(home === undefined ? {} : { home }), env })];
  }
  if (/^oci:\/\//i.test(url)) {
    const { ociRegistry } = await import('@bentoport/registry-oci');
    return [ociRegistry({ url, plainHttp: Boolean(values['plain-http']), rejectUnauthorized: !values.insecure, env })];
  }
  throw new UsageError(`unsupported registry '${url.replace(/\/\/[^/@]*@/, '//***@')}' (use oci://HOST[:PORT]/REPOSITORY or bentocloud[://CONTEXT])`);
}

interface RegistryCommandContext {
  bentoport: Bentoport;
  kind: 'bento' | 'model';
  positionals: string[];
  values: OptionValues;
  signal: AbortSignal;
  print(text: string): void;
  printJson(value: unknown): void;
  finishProgress(): void;
}

function pushLine(result: PushResult, type: string): string {
  if (result.skipped) return `${type}(tag="${result.tag}") already in ${result.registry}; nothing pushed.`;
  const sent = result.bytesUploaded === undefined ? '' : ` (${result.bytesUploaded} bytes sent, ${result.bytesSkipped ?? 0} already there)`;
  return `${type}(tag="${result.tag}") pushed to ${result.location ?? result.registry}${sent}.`;
}

export async function runPush(context: RegistryCommandContext): Promise<void> {
  const tag = context.positionals[0] as string;
  const options = { force: Boolean(context.values.force), signal: context.signal };
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
  const result = context.kind === 'bento' ? await context.bentoport.pull(tag, options) : await context.bentoport.pullModel(tag, options);
  context.finishProgress();
  if (context.values.json) return context.printJson(pullJson(result));
  const type = context.kind === 'bento' ? 'Bento' : 'Model';
  const tagText = `${result.item.tag.name}:${result.item.tag.version}`;
  context.print(result.skipped ? `${type}(tag="${tagText}") is already in the local store.` : `${type}(tag="${tagText}") pulled from ${result.registry}.`);
  if (result.modelsPulled.length > 0) context.print(`Models pulled: ${result.modelsPulled.join(', ')}.`);
}
