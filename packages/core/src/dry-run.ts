import { BentoportError, isBentoportError, type Location, type Transport } from '@bentoport/spec';
import { hashedArchive, sniffArchive, type ArchiveInput } from './archive-source.js';
import type { ExportOptions, ExportTarget, ImportOptions, ImportSource } from './bentoport-types.js';
import { bentosUsingModel } from './delete-items.js';
import { directorySize } from './directory-size.js';
import { operationError, progressEmitter, storeOf, type EngineContext } from './engine-context.js';
import { exportContent, exportDestination } from './export-item.js';
import type { ItemStore, StoreItem } from './item-store.js';
import { chooseRegistry, type PullOptions, type PushOptions } from './push-pull.js';
import { planPush, type PlannedPushItem } from './push.js';
import { formatTag, parseTag } from './tag.js';
import { resolveImportSource, type ItemKind } from './target.js';

/**
 * Dry runs: what an operation would write or send, where, and how much, found by reading only.
 * None of them writes anything anywhere: no store change (not even the sweep of stale staging
 * directories the real operations do first), no temporary file, no remote write, no upload
 * session. The registry is asked `has`, the transport `stat`, an import's first bytes are read.
 */

/** What `export` would write. */
export interface ExportPlan {
  dryRun: true;
  /** `name:version` that would be exported. */
  tag: string;
  kind: ItemKind;
  /** Where the archive would go (password redacted), `-` for a stream. */
  destination: string;
  format: string;
  /** Bytes of the files that would be archived (the item, and a bento's models): the archive is about this size before compression. */
  contentBytes: number;
  /** The models a bento's archive would embed (`name:version`). */
  models: string[];
  /** Something is at the destination already and would be replaced. */
  replaces: boolean;
}

/** What `import` would read, and where it would go. */
export interface ImportPlan {
  dryRun: true;
  kind: ItemKind;
  /** The archive (password redacted), `-` for a stream. */
  source: string;
  /** The format its first bytes name (or the one asked for). */
  format: string;
  /** The archive's size, when the transport knows it. */
  size?: number;
  /** The store the item would enter. */
  store: string;
}

/** One item a push would send, or skip because the registry holds it. */
export interface PushPlanItem {
  tag: string;
  kind: ItemKind;
  /** Content bytes of the item (a bento without its models). */
  bytes: number;
  /** The registry holds this version: it would not be sent (without `force`). */
  present: boolean;
}

/** What `push` would send. */
export interface PushPlanResult {
  dryRun: true;
  tag: string;
  registry: string;
  /** The models first, then the item, in the order a push sends them. */
  items: PushPlanItem[];
  /** Content bytes of the items that would be sent. */
  bytesToSend: number;
}

/** What `pull` would fetch. */
export interface PullPlanResult {
  dryRun: true;
  /** `name:version` as resolved: locally when the store has it, else as given. */
  tag: string;
  kind: ItemKind;
  registry: string;
  /** The local store holds it: without `force` only its missing models would be pulled. */
  local: boolean;
  /** The registry holds it. */
  remote: boolean;
  /** The store's copy would be replaced (`force` and a local copy). */
  replaces: boolean;
  /** The item itself would be downloaded. */
  downloads: boolean;
  /** Bytes the item's download would take, when the registry can tell (its optional `size`). */
  bytes?: number;
  /** A local bento's models: missing ones would be pulled when the registry has them. Unknown (empty) for a bento not yet local. */
  models: Array<{ tag: string; local: boolean; remote: boolean; bytes?: number }>;
}

/** What `delete` would remove. */
export interface DeletePlan {
  dryRun: true;
  items: Array<{ tag: string; kind: ItemKind; path: string; bytes: number }>;
}

/** Whether something is at `location` (a stat, nothing written). */
async function somethingAt(transport: Transport, location: Location, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await transport.stat(location, { signal });
    return true;
  } catch (error) {
    if (isBentoportError(error, 'ERR_NOT_FOUND')) return false;
    throw error;
  }
}

/** What {@link exportItem} would write. */
export async function planExport(context: EngineContext, kind: ItemKind, tagLike: string, target: ExportTarget, outputFormat: string | undefined, options: ExportOptions = {}): Promise<ExportPlan> {
  const emit = progressEmitter(context, 'export', options.onProgress);
  const item = await storeOf(context, kind).get(tagLike);
  const content = await exportContent(context, item, emit);
  const destination = await exportDestination(context, item, target, outputFormat, options);
  let contentBytes = 0;
  for (const tree of content.trees) contentBytes += await directorySize(tree.directory, tree.exclude);
  const replaces = destination.transport && destination.location ? await somethingAt(destination.transport, destination.location, options.signal) : false;
  return {
    dryRun: true,
    tag: formatTag(item.tag),
    kind,
    destination: destination.location?.display ?? '-',
    format: destination.format,
    contentBytes,
    models: content.trees.slice(1).map((tree) => tree.prefix.replace(/^models\//, '').replace('/', ':')),
    replaces,
  };
}

/** What {@link importItem} would read: its format from the first bytes, its size; nothing is extracted. */
export async function planImport(context: EngineContext, kind: ItemKind, source: ImportSource, inputFormat: string | undefined, options: ImportOptions = {}): Promise<ImportPlan> {
  const emit = progressEmitter(context, 'import', options.onProgress);
  const store = storeOf(context, kind).base;
  if (typeof source !== 'string') {
    const input: ArchiveInput = { display: '-', format: inputFormat, explicitFormat: inputFormat !== undefined };
    const sniffed = await sniffArchive(hashedArchive(source, undefined, () => undefined), context.plugins, input);
    sniffed.stream.destroy();
    return { dryRun: true, kind, source: '-', format: sniffed.format, store };
  }
  const resolved = resolveImportSource(source, inputFormat, options, kind, context.cwd);
  const { location } = resolved;
  if (resolved.format === 'folder') return { dryRun: true, kind, source: location.display, format: 'folder', size: await directorySize(location.path), store };
  const transport = context.plugins.transportFor(location.protocol, location.display);
  const info = await transport.stat(location, { signal: options.signal, onProgress: emit });
  if (info.type === 'directory') {
    throw new BentoportError('ERR_INVALID_TARGET', `${location.display} is a directory, not an archive (use format folder to import a directory)`);
  }
  const input: ArchiveInput = { display: location.display, transport, location, size: info.size, format: resolved.format, explicitFormat: resolved.explicitFormat };
  // No size: a large archive would start a hash thread for the few bytes a sniff reads.
  const digest = hashedArchive(await transport.read(location, { signal: options.signal, onProgress: emit }), undefined, () => undefined);
  try {
    const sniffed = await sniffArchive(digest, context.plugins, input);
    return { dryRun: true, kind, source: location.display, format: sniffed.format, size: info.size, store };
  } finally {
    digest.destroy();
  }
}

const planItem = (entry: PlannedPushItem): PushPlanItem => ({ tag: entry.tag, kind: entry.item.ref.kind, bytes: entry.item.contentBytes, present: entry.present });

/** What {@link push} would send: the registry is asked `has` for each item, nothing else. */
export async function planPushResult(context: EngineContext, kind: ItemKind, tagLike: string, options: PushOptions = {}): Promise<PushPlanResult> {
  const emit = progressEmitter(context, 'push', options.onProgress);
  const plan = await planPush(context, kind, tagLike, options, emit);
  return { dryRun: true, tag: plan.item.tag, registry: plan.registry.url, items: [...plan.models, plan.item].map(planItem), bytesToSend: plan.bytesToSend };
}

async function localCopy(store: ItemStore, tagLike: string): Promise<StoreItem | undefined> {
  try {
    return await store.get(tagLike);
  } catch (error) {
    if (isBentoportError(error, 'ERR_NOT_FOUND')) return undefined;
    throw error;
  }
}

/** What {@link pull} would fetch: the local store is read and the registry asked `has`. */
export async function planPull(context: EngineContext, kind: ItemKind, tagLike: string, options: PullOptions = {}): Promise<PullPlanResult> {
  const registry = await chooseRegistry(context.plugins.registries, options.registry);
  const local = await localCopy(storeOf(context, kind), tagLike);
  const tag = local?.tag ?? parseTag(tagLike);
  if (tag.version === undefined) {
    throw new BentoportError('ERR_INVALID_TAG', `${kind === 'bento' ? 'Bento' : 'Model'} "${tag.name}" version can not be None; pull an explicit version (name:version)`);
  }
  const signal = options.signal;
  try {
    const remote = await registry.has({ kind, name: tag.name, version: tag.version }, { signal });
    const models: PullPlanResult['models'] = [];
    if (local && kind === 'bento' && (options.withModels ?? true)) {
      for (const reference of local.metadata.models) {
        if (reference.registry !== 'bentoml' || reference.tag.version === undefined) continue;
        const present = await context.models.has(reference.tag);
        const ref = { kind: 'model' as const, name: reference.tag.name, version: reference.tag.version };
        const remote = present ? false : await registry.has(ref, { signal });
        const bytes = remote ? await registry.size?.(ref, { signal }) : undefined;
        models.push({ tag: formatTag(reference.tag), local: present, remote, ...(bytes === undefined ? {} : { bytes }) });
      }
    }
    const force = options.force ?? false;
    const downloads = force || local === undefined;
    const bytes = downloads && remote ? await registry.size?.({ kind, name: tag.name, version: tag.version }, { signal }) : undefined;
    return {
      dryRun: true,
      tag: formatTag(tag),
      kind,
      registry: registry.url,
      local: local !== undefined,
      remote,
      replaces: force && local !== undefined,
      downloads,
      ...(bytes === undefined ? {} : { bytes }),
      models,
    };
  } catch (error) {
    throw operationError(error, signal, registry.name, 'pull', `${tagLike} from ${registry.url}`);
  }
}

/**
 * What {@link deleteItems} would remove, resolved the same way; a model a bento uses fails with
 * the same ERR_IN_USE the deletion would.
 */
export async function planDelete(context: EngineContext, kind: ItemKind, tagLike: string): Promise<DeletePlan> {
  const store = storeOf(context, kind);
  const tag = parseTag(tagLike);
  const targets = tag.version === undefined ? await store.list(tag.name) : [await store.get(tagLike)];
  const items: DeletePlan['items'] = [];
  for (const item of targets) {
    if (kind === 'model') {
      const users = await bentosUsingModel(context.bentos, item.tag);
      if (users.length > 0) {
        throw new BentoportError('ERR_IN_USE', `Model ${formatTag(item.tag)} is being used by the following bentos and can't be deleted:\n  ${users.join('\n  ')}`);
      }
    }
    items.push({ tag: formatTag(item.tag), kind, path: item.path, bytes: await directorySize(item.path) });
  }
  return { dryRun: true, items };
}
