import { lstat, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BentoportError, isBentoportError, type ProgressEvent, type ProgressListener, type Registry, type RegistryItemRef, type RegistryPushItem } from '@bentoport/spec';
import { redact, toBentoportError } from '@bentoport/plugin-kit';
import { itemEntries } from './item-entries.js';
import { loadItemMetadata, type ItemStore, type StoreItem } from './item-store.js';
import { extractEntries, type ExtractionLimits } from './safe-extract.js';
import { createStagingDirectory, removeStagingDirectory, sweepStaleStaging } from './staging.js';
import { formatTag, parseTag } from './tag.js';
import type { ItemKind } from './target.js';

/** Options of `push` and `pushModel`. */
export interface PushOptions {
  /**
   * The registry: an instance, or a string selecting one of `createBentoport({ registries })` by
   * its `url` or `name`. @default the one `BENTOPORT_REGISTRY` or the config file names, else the only one configured
   */
  registry?: Registry | string;
  /** Push even when the registry holds this version (its models are pushed again too). @default false */
  force?: boolean;
  /** Push a bento's models (those in the local model store) before it. @default true */
  withModels?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** Options of `pull` and `pullModel`. */
export interface PullOptions {
  /** As {@link PushOptions.registry}. */
  registry?: Registry | string;
  /**
   * Download even when the local store holds the version, and replace THAT version only, once
   * the new copy is staged and verified (a failed pull keeps the old copy). @default false
   */
  force?: boolean;
  /**
   * Pull the models a bento needs that are missing from the local model store. BentoML pulls
   * them only with `--with-models`; bentoport does by default, because a bento without its
   * models cannot serve. @default true
   */
  withModels?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** What a push did. */
export interface PushResult {
  /** `name:version` pushed (resolved from `latest` or a prefix locally). */
  tag: string;
  /** The registry's `url`. */
  registry: string;
  /** True when the registry already held the version and nothing was sent (no `force`). */
  skipped: boolean;
  location?: string;
  digest?: string;
  bytesUploaded?: number;
  bytesSkipped?: number;
  /** A bento's models: pushed, or skipped because the registry held them. */
  models: Array<{ tag: string; skipped: boolean; bytesUploaded?: number }>;
}

/** What a pull did. */
export interface PullResult {
  /** The item now in the local store. */
  item: StoreItem;
  registry: string;
  /** True when the local store already held it and nothing was downloaded. */
  skipped: boolean;
  /** True when `force` replaced a local copy of this version. */
  replaced: boolean;
  /** Models pulled because they were missing locally. */
  modelsPulled: string[];
  /** Models already in the local model store. */
  modelsSkipped: string[];
}

/** Where the default registry came from. */
export interface RegistrySetting {
  /** The registry URL as written (may hold credentials: never print it unredacted). */
  url: string;
  /** `BENTOPORT_REGISTRY`, or the config file's path. */
  source: string;
}

/** `$XDG_CONFIG_HOME/bentoport/config.yaml`, else `~/.config/bentoport/config.yaml`. */
export function bentoportConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(env.HOME ?? homedir(), '.config');
  return path.join(base, 'bentoport', 'config.yaml');
}

/**
 * The default registry: `BENTOPORT_REGISTRY`, else `registry:` in the config file
 * ({@link bentoportConfigPath}), else undefined.
 * @throws {BentoportError} ERR_INVALID_OPTION when the config file is not a yaml mapping or `registry` is not a string.
 */
export async function readDefaultRegistry(env: NodeJS.ProcessEnv = process.env): Promise<RegistrySetting | undefined> {
  const fromEnv = env.BENTOPORT_REGISTRY?.trim();
  if (fromEnv) return { url: fromEnv, source: 'BENTOPORT_REGISTRY' };
  const file = bentoportConfigPath(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new BentoportError('ERR_INVALID_OPTION', `${file} is not valid yaml: ${(error as Error).message}`, { cause: error });
  }
  if (document === null || document === undefined) return undefined;
  if (typeof document !== 'object' || Array.isArray(document)) throw new BentoportError('ERR_INVALID_OPTION', `${file} must be a yaml mapping`);
  const registry = (document as Record<string, unknown>).registry;
  if (registry === undefined || registry === null) return undefined;
  if (typeof registry !== 'string') throw new BentoportError('ERR_INVALID_OPTION', `${file}: 'registry' must be a string (a registry URL)`);
  return { url: registry.trim(), source: file };
}

/** A registry URL without credentials or trailing slashes, for comparing. */
function comparableUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1').replace(/\/+$/, '');
}

const TYPE_NAME: Record<ItemKind, string> = { bento: 'Bento', model: 'Model' };

async function contentBytes(directory: string, exclude: string[] = []): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (exclude.includes(entry.name)) continue;
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) total += await contentBytes(full);
    else if (entry.isFile()) total += (await lstat(full)).size;
  }
  return total;
}

/** What push/pull need from the instance createBentoport built. */
export interface PushPullContext {
  home: string;
  bentos: ItemStore;
  models: ItemStore;
  registries: readonly Registry[];
  limits?: Partial<ExtractionLimits>;
  onProgress?: ProgressListener;
}

export interface PushPull {
  push(tag: string, options?: PushOptions): Promise<PushResult>;
  pull(tag: string, options?: PullOptions): Promise<PullResult>;
  pushModel(tag: string, options?: PushOptions): Promise<PushResult>;
  pullModel(tag: string, options?: PullOptions): Promise<PullResult>;
}

/**
 * Push and pull orchestration over a set of registries (spec §5.3–5.5 semantics, with the fixes
 * documented on {@link PullOptions}).
 */
export function createPushPull(context: PushPullContext): PushPull {
  const { bentos, models, home } = context;
  const storeOf = (kind: ItemKind): ItemStore => (kind === 'bento' ? bentos : models);

  const emitter = (operation: 'push' | 'pull', extra?: ProgressListener): ProgressListener => {
    return (event) => {
      const full = { ...event, operation } as ProgressEvent;
      context.onProgress?.(full);
      extra?.(full);
    };
  };

  async function chooseRegistry(option: Registry | string | undefined): Promise<Registry> {
    if (option !== undefined && typeof option !== 'string') {
      if (option.apiVersion !== 1) {
        throw new BentoportError(
          'ERR_PLUGIN_VERSION',
          `registry plugin '${option.name}' speaks apiVersion ${String(option.apiVersion)}, this @bentoport/core speaks 1; install matching versions`,
        );
      }
      return option;
    }
    const configured = context.registries;
    const wanted = option ?? (await readDefaultRegistry())?.url;
    if (wanted !== undefined) {
      const key = comparableUrl(wanted);
      const match = configured.find((registry) => comparableUrl(registry.url) === key || registry.name === wanted);
      if (match) return match;
      if (option !== undefined || configured.length !== 1) {
        throw new BentoportError(
          'ERR_INVALID_OPTION',
          `no registry '${redact(wanted)}' among the configured ones (${configured.map((registry) => registry.url).join(', ') || 'none'})`,
        );
      }
    }
    if (configured.length === 1) return configured[0] as Registry;
    if (configured.length === 0) {
      throw new BentoportError(
        'ERR_INVALID_OPTION',
        'no registry configured: pass one (--registry), set BENTOPORT_REGISTRY, or write `registry: <url>` in ' + bentoportConfigPath(),
      );
    }
    throw new BentoportError('ERR_INVALID_OPTION', `several registries are configured (${configured.map((registry) => registry.url).join(', ')}); choose one`);
  }

  async function pushItemOf(item: StoreItem, onWarning: (message: string) => void, modelItems: RegistryPushItem[]): Promise<RegistryPushItem> {
    const exclude = item.kind === 'bento' ? ['models'] : [];
    return {
      ref: { kind: item.kind, name: item.tag.name, version: item.tag.version },
      metadata: item.metadata,
      directory: item.path,
      contentBytes: await contentBytes(item.path, exclude),
      models: modelItems,
      entries: () =>
        itemEntries({
          trees: [{ directory: item.path, prefix: '', exclude }],
          mtime: Math.floor(item.metadata.creationTime / 1_000_000),
          keepSymlinks: true,
          onWarning,
        }),
    };
  }

  async function push(kind: ItemKind, tagLike: string, options: PushOptions = {}): Promise<PushResult> {
    const emit = emitter('push', options.onProgress);
    const force = options.force ?? false;
    const signal = options.signal;
    emit({ type: 'phase', operation: 'push', phase: 'resolve' });
    const item = await storeOf(kind).get(tagLike);
    const tagText = formatTag(item.tag);
    const registry = await chooseRegistry(options.registry);
    const onWarning = (message: string) => emit({ type: 'warning', operation: 'push', message });

    const modelItems: RegistryPushItem[] = [];
    if (kind === 'bento' && (options.withModels ?? true)) {
      for (const reference of item.metadata.models) {
        if (reference.registry !== 'bentoml') continue;
        const model = (await models.list(formatTag(reference.tag)))[0];
        if (!model) {
          // BentoML skips these silently; say so.
          onWarning(`model '${formatTag(reference.tag)}' used by bento '${tagText}' is not in the local model store; not pushed`);
          continue;
        }
        modelItems.push(await pushItemOf(model, onWarning, []));
      }
    }
    const result: PushResult = { tag: tagText, registry: registry.url, skipped: false, models: [] };
    try {
      emit({ type: 'phase', operation: 'push', phase: 'transfer', target: registry.url });
      for (const model of modelItems) {
        const modelTag = `${model.ref.name}:${model.ref.version}`;
        if (!force && (await registry.has(model.ref, { signal, onProgress: emit }))) {
          emit({ type: 'notice', operation: 'push', message: `Model "${modelTag}" already exists in remote model store, skipping` });
          result.models.push({ tag: modelTag, skipped: true });
          continue;
        }
        const pushed = await registry.push(model, { force, signal, onProgress: emit });
        result.models.push({ tag: modelTag, skipped: false, ...(pushed?.bytesUploaded === undefined ? {} : { bytesUploaded: pushed.bytesUploaded }) });
      }
      const ref: RegistryItemRef = { kind, name: item.tag.name, version: item.tag.version };
      if (!force && (await registry.has(ref, { signal, onProgress: emit }))) {
        emit({
          type: 'notice',
          operation: 'push',
          message: kind === 'bento' ? `Push skipped: Bento "${tagText}" already exists in remote Bento store` : `Model "${tagText}" already exists in remote model store, skipping`,
        });
        return { ...result, skipped: true };
      }
      const pushed = await registry.push(await pushItemOf(item, onWarning, modelItems), { force, signal, onProgress: emit });
      emit({ type: 'phase', operation: 'push', phase: 'commit', target: registry.url });
      emit({ type: 'notice', operation: 'push', message: `Successfully pushed ${TYPE_NAME[kind]} "${tagText}"` });
      return { ...result, ...(pushed ?? {}) };
    } catch (error) {
      throw toBentoportError(signal?.aborted ? signal.reason ?? error : error, registry.name, 'push', `${tagText} to ${registry.url}`);
    }
  }

  /** Download one item into staging, verify it, and install it (replacing that version with `force`). */
  async function download(
    registry: Registry,
    ref: RegistryItemRef,
    replace: boolean,
    options: PullOptions,
    emit: ProgressListener,
    beforeInstall?: (staged: StoreItem) => Promise<void>,
  ): Promise<StoreItem> {
    const signal = options.signal;
    const staging = await createStagingDirectory(home, [bentos.base, models.base]);
    const refText = `${ref.name}:${ref.version}`;
    try {
      const itemDirectory = path.join(staging, 'item');
      await mkdir(itemDirectory);
      await extractEntries(registry.pull(ref, { signal, onProgress: emit }), itemDirectory, { limits: context.limits, signal });
      emit({ type: 'phase', operation: 'pull', phase: 'verify' });
      const metadata = await loadItemMetadata(ref.kind, itemDirectory);
      if (!metadata) {
        throw new BentoportError(
          'ERR_INVALID_METADATA',
          `[${registry.name}] pull ${refText} from ${registry.url}: the ${ref.kind} has no '${ref.kind === 'bento' ? 'bento.yaml' : 'model.yaml'}'`,
        );
      }
      if (metadata.tag.name !== ref.name || (ref.version !== 'latest' && metadata.tag.version !== ref.version)) {
        throw new BentoportError(
          'ERR_CORRUPT_ARCHIVE',
          `[${registry.name}] pull ${refText}: the registry delivered '${formatTag(metadata.tag)}' instead; nothing was stored`,
        );
      }
      // Models travel as items of their own; a stray embedded copy is not kept.
      if (ref.kind === 'bento') await rm(path.join(itemDirectory, 'models'), { recursive: true, force: true });
      const store = storeOf(ref.kind);
      if (!replace && (await store.has(metadata.tag))) {
        throw new BentoportError('ERR_ALREADY_EXISTS', `Item '${formatTag(metadata.tag)}' already exists in the store ${store.base}`);
      }
      await beforeInstall?.({ kind: ref.kind, tag: metadata.tag, path: itemDirectory, metadata });
      emit({ type: 'phase', operation: 'pull', phase: 'commit' });
      return await store.install(itemDirectory, metadata, { replace });
    } finally {
      await removeStagingDirectory(staging);
    }
  }

  async function pullMissingModels(
    registry: Registry,
    bento: StoreItem,
    options: PullOptions,
    emit: ProgressListener,
  ): Promise<{ pulled: string[]; skipped: string[] }> {
    const pulled: string[] = [];
    const skipped: string[] = [];
    for (const reference of bento.metadata.models) {
      if (reference.registry !== 'bentoml') continue;
      const modelTag = formatTag(reference.tag);
      if (await models.has(reference.tag)) {
        skipped.push(modelTag);
        continue;
      }
      const ref: RegistryItemRef = { kind: 'model', name: reference.tag.name, version: reference.tag.version };
      try {
        await download(registry, ref, false, options, emit);
      } catch (error) {
        // Another pull installed it meanwhile: the same tag is the same model.
        if (!isBentoportError(error, 'ERR_ALREADY_EXISTS')) throw error;
        skipped.push(modelTag);
        continue;
      }
      pulled.push(modelTag);
      emit({ type: 'notice', operation: 'pull', message: `Model "${modelTag}" pulled into the model store` });
    }
    return { pulled, skipped };
  }

  async function pull(kind: ItemKind, tagLike: string, options: PullOptions = {}): Promise<PullResult> {
    const emit = emitter('pull', options.onProgress);
    const signal = options.signal;
    const withModels = kind === 'bento' && (options.withModels ?? true);
    await sweepStaleStaging(home).catch(() => undefined);
    emit({ type: 'phase', operation: 'pull', phase: 'resolve' });
    const tag = parseTag(tagLike);
    const store = storeOf(kind);
    const registry = await chooseRegistry(options.registry);

    let local: StoreItem | undefined;
    try {
      local = await store.get(tagLike);
    } catch (error) {
      if (!isBentoportError(error, 'ERR_NOT_FOUND')) throw error;
    }
    try {
      if (local && !options.force) {
        emit({
          type: 'notice',
          operation: 'pull',
          message: `${TYPE_NAME[kind]} "${formatTag(local.tag)}" exists in local ${kind === 'bento' ? 'bento' : 'model'} store`,
        });
        const fetched = withModels ? await pullMissingModels(registry, local, options, emit) : { pulled: [], skipped: [] };
        return { item: local, registry: registry.url, skipped: true, replaced: false, modelsPulled: fetched.pulled, modelsSkipped: fetched.skipped };
      }
      const version = local?.tag.version ?? tag.version;
      if (version === undefined) {
        throw new BentoportError('ERR_INVALID_TAG', `${TYPE_NAME[kind]} "${tag.name}" version can not be None; pull an explicit version (name:version)`);
      }
      const ref: RegistryItemRef = { kind, name: tag.name, version };
      emit({ type: 'phase', operation: 'pull', phase: 'transfer', target: registry.url });
      let fetched = { pulled: [] as string[], skipped: [] as string[] };
      const item = await download(registry, ref, local !== undefined, options, emit, async (staged) => {
        // Models first, so the store never holds a bento whose models are missing.
        if (withModels) fetched = await pullMissingModels(registry, staged, options, emit);
      });
      emit({ type: 'notice', operation: 'pull', message: `Successfully pulled ${TYPE_NAME[kind]} "${formatTag(item.tag)}"` });
      return { item, registry: registry.url, skipped: false, replaced: local !== undefined, modelsPulled: fetched.pulled, modelsSkipped: fetched.skipped };
    } catch (error) {
      throw toBentoportError(signal?.aborted ? signal.reason ?? error : error, registry.name, 'pull', `${tagLike} from ${registry.url}`);
    }
  }

  return {
    push: (tag, options) => push('bento', tag, options),
    pull: (tag, options) => pull('bento', tag, options),
    pushModel: (tag, options) => push('model', tag, options),
    pullModel: (tag, options) => pull('model', tag, options),
  };
}
