import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { BentoportError, type Tag } from '@bentoport/spec';
import { storeOf, type EngineContext } from './engine-context.js';
import type { ItemStore, StoreItem } from './item-store.js';
import { formatTag, parseTag } from './tag.js';
import type { ItemKind } from './target.js';

/**
 * The bentos in the store that need `modelTag` from the model store (`name:version` of each). A
 * legacy bento that carries its own `models/` directory needs none.
 */
export async function bentosUsingModel(bentos: ItemStore, modelTag: Tag): Promise<string[]> {
  const wanted = formatTag(modelTag);
  const users: string[] = [];
  for (const bento of await bentos.list()) {
    const carriesOwnModels = await lstat(path.join(bento.path, 'models')).then(
      () => true,
      () => false,
    );
    if (carriesOwnModels) continue;
    if (bento.metadata.models.some((reference) => formatTag(reference.tag) === wanted)) users.push(formatTag(bento.tag));
  }
  return users;
}

/** @throws {BentoportError} ERR_IN_USE, with BentoML's message, when a bento in the store uses the model. */
async function refuseModelInUse(bentos: ItemStore, model: StoreItem): Promise<void> {
  const users = await bentosUsingModel(bentos, model.tag);
  if (users.length > 0) {
    throw new BentoportError(
      'ERR_IN_USE',
      `Model ${formatTag(model.tag)} is being used by the following bentos and can't be deleted:\n  ${users.join('\n  ')}`,
    );
  }
}

/**
 * Delete items as BentoML's CLI: a bare name deletes every version; otherwise `latest` or a
 * version prefix resolves first. A model a bento uses is refused before anything is deleted.
 * @throws {BentoportError} ERR_NOT_FOUND, ERR_AMBIGUOUS, ERR_IN_USE.
 */
export async function deleteItems(context: EngineContext, kind: ItemKind, tagLike: string): Promise<StoreItem[]> {
  const store = storeOf(context, kind);
  const tag = parseTag(tagLike);
  const targets = tag.version === undefined ? await store.list(tag.name) : [await store.get(tagLike)];
  if (kind === 'model') {
    for (const model of targets) await refuseModelInUse(context.bentos, model);
  }
  for (const item of targets) await store.delete(formatTag(item.tag));
  return targets;
}
