import { BentoportError, type ProgressEvent, type Registry, type RegistryItemRef, type RegistryPushItem } from '@bentoport/spec';
import { directorySize } from './directory-size.js';
import { operationError, progressEmitter, storeOf, type Emit, type EngineContext } from './engine-context.js';
import { itemEntries } from './item-entries.js';
import { readStoredSignature, signItem } from './item-signatures.js';
import { TYPE_NAME, type StoreItem } from './item-store.js';
import { chooseRegistry, type PushOptions, type PushResult } from './push-pull.js';
import { formatTag } from './tag.js';
import type { ItemKind } from './target.js';
import { transferProgress, type ItemProgress } from './transfer-progress.js';

/** A store item as a registry receives it (a bento without `models/`). */
async function pushItemOf(item: StoreItem, onWarning: (message: string) => void, models: RegistryPushItem[]): Promise<RegistryPushItem> {
  const exclude = item.kind === 'bento' ? ['models'] : [];
  return {
    ref: { kind: item.kind, name: item.tag.name, version: item.tag.version },
    metadata: item.metadata,
    directory: item.path,
    contentBytes: await directorySize(item.path, exclude),
    models,
    entries: () =>
      itemEntries({
        trees: [{ directory: item.path, prefix: '', exclude }],
        mtime: Math.floor(item.metadata.creationTime / 1_000_000),
        keepSymlinks: true,
        onWarning,
      }),
  };
}

/** The bentoml-registry models of `bento` that the local model store holds, as push items. */
async function modelsToPush(context: EngineContext, bento: StoreItem, onWarning: (message: string) => void): Promise<RegistryPushItem[]> {
  const items: RegistryPushItem[] = [];
  for (const reference of bento.metadata.models) {
    if (reference.registry !== 'bentoml') continue;
    const model = (await context.models.list(formatTag(reference.tag)))[0];
    if (!model) {
      // BentoML skips these silently; say so.
      onWarning(`model '${formatTag(reference.tag)}' used by bento '${formatTag(bento.tag)}' is not in the local model store; not pushed`);
      continue;
    }
    items.push(await pushItemOf(model, onWarning, []));
  }
  return items;
}

/** One item of a push, and whether the registry holds it already (so it is not sent). */
export interface PlannedPushItem {
  item: RegistryPushItem;
  /** `name:version`. */
  tag: string;
  /** The registry holds this version and `force` is off: nothing is sent. */
  present: boolean;
}

/** What a push sends, decided before any byte moves: models first, then the item. */
export interface PushPlan {
  registry: Registry;
  item: PlannedPushItem;
  models: PlannedPushItem[];
  /** Content bytes of every item that is sent: the total of the progress bar. */
  bytesToSend: number;
}

const tagOf = (item: RegistryPushItem) => `${item.ref.name}:${item.ref.version}`;

/** Whether the registry holds `ref` (never asked with `force`: everything is sent again). */
async function isPresent(registry: Registry, ref: RegistryItemRef, force: boolean, signal: AbortSignal | undefined, emit: Emit): Promise<boolean> {
  return !force && (await registry.has(ref, { signal, onProgress: emit }));
}

/**
 * Resolve the item locally and ask the registry which of it and its models it holds. Only
 * `has` is called: nothing is written anywhere, so a dry run is this plan and nothing more.
 */
export async function planPush(context: EngineContext, kind: ItemKind, tagLike: string, options: PushOptions, emit: Emit): Promise<PushPlan> {
  const force = options.force ?? false;
  const signal = options.signal;
  const item = await storeOf(context, kind).get(tagLike);
  const registry = await chooseRegistry(context.plugins.registries, options.registry);
  const onWarning = (message: string) => emit({ type: 'warning', message });
  const models = kind === 'bento' && (options.withModels ?? true) ? await modelsToPush(context, item, onWarning) : [];
  try {
    const plannedModels: PlannedPushItem[] = [];
    for (const model of models) plannedModels.push({ item: model, tag: tagOf(model), present: await isPresent(registry, model.ref, force, signal, emit) });
    const pushItem = await pushItemOf(item, onWarning, models);
    const planned: PlannedPushItem = { item: pushItem, tag: formatTag(item.tag), present: await isPresent(registry, pushItem.ref, force, signal, emit) };
    const bytesToSend = [...plannedModels, planned].filter((entry) => !entry.present).reduce((sum, entry) => sum + entry.item.contentBytes, 0);
    return { registry, item: planned, models: plannedModels, bytesToSend };
  } catch (error) {
    throw operationError(error, signal, registry.name, 'push', `${formatTag(item.tag)} to ${registry.url}`);
  }
}

/**
 * The item with its entries counted as the registry reads them. Each call of `entries()` is a
 * pass of its own (a plugin may walk twice, or again after a restart); the item's progress keeps
 * the furthest one, so re-read bytes are not counted twice.
 */
function countedItem(item: RegistryPushItem, progress: ItemProgress): RegistryPushItem {
  return {
    ...item,
    entries: () => {
      let pass = 0;
      return itemEntries({
        trees: [{ directory: item.directory, prefix: '', exclude: item.ref.kind === 'bento' ? ['models'] : [] }],
        mtime: Math.floor(item.metadata.creationTime / 1_000_000),
        keepSymlinks: true,
        onFileBytes: (bytes) => progress.reached((pass += bytes)),
      });
    },
  };
}

/**
 * The registry's own `bytes` events are dropped: core counts every item in one unit (content
 * bytes read from the store) against a total known up front, where a plugin counts one item in
 * its own (compressed bytes sent).
 */
function withoutPluginBytes(emit: Emit): (event: ProgressEvent) => void {
  return (event) => {
    if (event.type !== 'bytes') emit(event);
  };
}

/** Send one planned item (or skip it with BentoML's notice), labelled on the progress bar. */
async function pushPlanned(plan: PushPlan, entry: PlannedPushItem, options: PushOptions, emit: Emit, progress: ReturnType<typeof transferProgress>) {
  const { registry } = plan;
  const kind = entry.item.ref.kind;
  if (entry.present) {
    emit({
      type: 'notice',
      message: kind === 'bento' ? `Push skipped: Bento "${entry.tag}" already exists in remote Bento store` : `Model "${entry.tag}" already exists in remote model store, skipping`,
    });
    return undefined;
  }
  const label = `${kind} ${entry.tag}`;
  emit({ type: 'phase', phase: 'transfer', target: registry.url, item: label });
  const itemProgress = progress.start(label, entry.item.contentBytes);
  const pushed = await registry.push(countedItem(entry.item, itemProgress), { force: options.force ?? false, signal: options.signal, onProgress: withoutPluginBytes(emit) });
  itemProgress.finish();
  return pushed ?? {};
}

/**
 * The signature a push attaches: a new one with `sign` (made before anything is sent, so a key
 * that cannot sign fails the push at once), else the one the store holds; none where the
 * registry cannot hold signatures.
 * @throws {BentoportError} ERR_INVALID_OPTION when `sign` is given and the registry cannot hold signatures.
 */
async function signatureToAttach(context: EngineContext, kind: ItemKind, tag: string, registry: Registry, options: PushOptions): Promise<string | undefined> {
  const canHold = registry.capabilities.signatures === true && typeof registry.putSignature === 'function';
  if (!canHold) {
    if (options.sign) throw new BentoportError('ERR_INVALID_OPTION', `[${registry.name}] ${registry.url} cannot hold signatures; sign in the store (bentoport sign) and move the archive with its .sig instead`);
    return undefined;
  }
  if (options.sign) return (await signItem(context, kind, tag, { signer: options.sign, ...(options.signal ? { signal: options.signal } : {}) })).signatureText;
  return readStoredSignature(await storeOf(context, kind).get(tag));
}

/**
 * Push an item (`latest` and version prefixes resolve locally) and, first, a bento's models, as
 * BentoML's `push`: a version the registry holds is skipped with a notice unless `force`. One
 * progress bar covers every item sent, its total known before the first byte.
 */
export async function push(context: EngineContext, kind: ItemKind, tagLike: string, options: PushOptions = {}): Promise<PushResult> {
  const emit = progressEmitter(context, 'push', options.onProgress);
  emit({ type: 'phase', phase: 'resolve' });
  const plan = await planPush(context, kind, tagLike, options, emit);
  const { registry, item } = plan;
  const signatureText = await signatureToAttach(context, kind, item.tag, registry, options);
  try {
    const progress = transferProgress(emit, { plannedTotal: plan.bytesToSend });
    const models: PushResult['models'] = [];
    for (const model of plan.models) {
      const pushed = await pushPlanned(plan, model, options, emit, progress);
      models.push({ tag: model.tag, skipped: pushed === undefined, ...(pushed?.bytesUploaded === undefined ? {} : { bytesUploaded: pushed.bytesUploaded }) });
    }
    const result: PushResult = { tag: item.tag, registry: registry.url, skipped: false, models };
    const pushed = await pushPlanned(plan, item, options, emit, progress);
    if (signatureText !== undefined) {
      await registry.putSignature?.(item.item.ref, signatureText, { signal: options.signal, onProgress: withoutPluginBytes(emit) });
      emit({ type: 'notice', message: `Signature of ${TYPE_NAME[kind]} "${item.tag}" attached in ${registry.url}` });
      result.signed = true;
    }
    if (pushed === undefined) return { ...result, skipped: true };
    emit({ type: 'phase', phase: 'commit', target: registry.url });
    emit({ type: 'notice', message: `Successfully pushed ${TYPE_NAME[kind]} "${item.tag}"` });
    return { ...result, ...pushed };
  } catch (error) {
    throw operationError(error, options.signal, registry.name, 'push', `${item.tag} to ${registry.url}`);
  }
}
