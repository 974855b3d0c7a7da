import type { Registry, RegistryItemRef, RegistryPushItem } from '@bentoport/spec';
import { directorySize } from './directory-size.js';
import { operationError, progressEmitter, storeOf, type Emit, type EngineContext } from './engine-context.js';
import { itemEntries } from './item-entries.js';
import { TYPE_NAME, type StoreItem } from './item-store.js';
import { chooseRegistry, type PushOptions, type PushResult } from './push-pull.js';
import { formatTag } from './tag.js';
import type { ItemKind } from './target.js';

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

/** Push each model the registry lacks (all with `force`), in order. */
async function pushModels(registry: Registry, models: RegistryPushItem[], force: boolean, signal: AbortSignal | undefined, emit: Emit): Promise<PushResult['models']> {
  const results: PushResult['models'] = [];
  for (const model of models) {
    const modelTag = `${model.ref.name}:${model.ref.version}`;
    if (!force && (await registry.has(model.ref, { signal, onProgress: emit }))) {
      emit({ type: 'notice', message: `Model "${modelTag}" already exists in remote model store, skipping` });
      results.push({ tag: modelTag, skipped: true });
      continue;
    }
    const pushed = await registry.push(model, { force, signal, onProgress: emit });
    results.push({ tag: modelTag, skipped: false, ...(pushed?.bytesUploaded === undefined ? {} : { bytesUploaded: pushed.bytesUploaded }) });
  }
  return results;
}

/**
 * Push an item (`latest` and version prefixes resolve locally) and, first, a bento's models, as
 * BentoML's `push`: a version the registry holds is skipped with a notice unless `force`.
 */
export async function push(context: EngineContext, kind: ItemKind, tagLike: string, options: PushOptions = {}): Promise<PushResult> {
  const emit = progressEmitter(context, 'push', options.onProgress);
  const force = options.force ?? false;
  const signal = options.signal;
  emit({ type: 'phase', phase: 'resolve' });
  const item = await storeOf(context, kind).get(tagLike);
  const tagText = formatTag(item.tag);
  const registry = await chooseRegistry(context.plugins.registries, options.registry);
  const onWarning = (message: string) => emit({ type: 'warning', message });
  const models = kind === 'bento' && (options.withModels ?? true) ? await modelsToPush(context, item, onWarning) : [];
  try {
    emit({ type: 'phase', phase: 'transfer', target: registry.url });
    const result: PushResult = { tag: tagText, registry: registry.url, skipped: false, models: await pushModels(registry, models, force, signal, emit) };
    const ref: RegistryItemRef = { kind, name: item.tag.name, version: item.tag.version };
    if (!force && (await registry.has(ref, { signal, onProgress: emit }))) {
      emit({
        type: 'notice',
        message: kind === 'bento' ? `Push skipped: Bento "${tagText}" already exists in remote Bento store` : `Model "${tagText}" already exists in remote model store, skipping`,
      });
      return { ...result, skipped: true };
    }
    const pushed = await registry.push(await pushItemOf(item, onWarning, models), { force, signal, onProgress: emit });
    emit({ type: 'phase', phase: 'commit', target: registry.url });
    emit({ type: 'notice', message: `Successfully pushed ${TYPE_NAME[kind]} "${tagText}"` });
    return { ...result, ...(pushed ?? {}) };
  } catch (error) {
    throw operationError(error, signal, registry.name, 'push', `${tagText} to ${registry.url}`);
  }
}
