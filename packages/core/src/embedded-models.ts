import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { BentoportError } from '@bentoport/spec';
import type { Emit, EngineContext } from './engine-context.js';
import type { StagedItem } from './import-pipeline.js';
import type { ArchiveSourceTree, VirtualFile } from './item-entries.js';
import { loadItemMetadata, requireItemMetadata, type StoreItem } from './item-store.js';
import { formatTag } from './tag.js';

/**
 * A bento archive carries its models as BentoML's export writes them: `models/<name>/<version>/`
 * with a `models/<name>/latest` file. On export they come from the model store; on import they
 * go back into it.
 */

/** The trees and files an export of `bento` adds for its models. */
export interface EmbeddedModelContent {
  trees: ArchiveSourceTree[];
  /** `models/<name>/latest`, naming the newest version embedded. */
  virtualFiles: VirtualFile[];
}

async function pathExists(target: string): Promise<boolean> {
  return lstat(target).then(
    () => true,
    () => false,
  );
}

/** A model a bento uses, from the model store, else from a legacy bento's own `models/` directory. */
export async function usedModel(context: EngineContext, bento: StoreItem, reference: StoreItem['metadata']['models'][number]): Promise<StoreItem> {
  const modelTag = formatTag(reference.tag);
  const stored = (await context.models.list(modelTag))[0];
  if (stored) return stored;
  // A legacy bento may still carry the model inside its own models/ directory.
  const legacy = path.join(bento.path, 'models', reference.tag.name, reference.tag.version);
  const metadata = (await pathExists(legacy)) ? await loadItemMetadata('model', legacy) : undefined;
  if (!metadata) {
    throw new BentoportError(
      'ERR_NOT_FOUND',
      `Model '${modelTag}' used by bento '${formatTag(bento.tag)}' is not in the model store ${context.models.base}; import or pull it first`,
    );
  }
  return { kind: 'model', tag: metadata.tag, path: legacy, metadata };
}

/**
 * The models an export of `bento` embeds: every bentoml-registry model it references. Hugging
 * Face references are never embedded (a warning names them).
 * @throws {BentoportError} ERR_NOT_FOUND naming a referenced model that is nowhere to be found.
 */
export async function embeddedModelContent(context: EngineContext, bento: StoreItem, emit: Emit): Promise<EmbeddedModelContent> {
  const trees: ArchiveSourceTree[] = [];
  const newestByName = new Map<string, StoreItem>();
  const hubModels: string[] = [];
  for (const reference of bento.metadata.models) {
    if (reference.registry !== 'bentoml') {
      hubModels.push(formatTag(reference.tag));
      continue;
    }
    const model = await usedModel(context, bento, reference);
    trees.push({ directory: model.path, prefix: `models/${model.tag.name}/${model.tag.version}` });
    const current = newestByName.get(model.tag.name);
    if (!current || model.metadata.creationTime >= current.metadata.creationTime) newestByName.set(model.tag.name, model);
  }
  if (hubModels.length > 0) {
    emit({
      type: 'warning',
      message: `bento '${formatTag(bento.tag)}' refers to Hugging Face models that are never embedded: ${hubModels.join(', ')}`,
    });
  }
  const virtualFiles = [...newestByName].map(([name, model]) => ({ path: `models/${name}/latest`, content: model.tag.version }));
  return { trees, virtualFiles };
}

async function subdirectories(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/**
 * The models staged under `<bento>/models/<name>/<version>`, each with its `model.yaml`, in name
 * and version order. Every one is read before any is installed, so an archive with one broken
 * model leaves the model store as it was.
 * @throws {BentoportError} ERR_INVALID_METADATA naming the first model without a usable `model.yaml`.
 */
export async function readEmbeddedModels(bentoDirectory: string): Promise<StagedItem[]> {
  const modelsDirectory = path.join(bentoDirectory, 'models');
  if (!(await pathExists(modelsDirectory))) return [];
  const staged: StagedItem[] = [];
  for (const name of await subdirectories(modelsDirectory)) {
    for (const version of await subdirectories(path.join(modelsDirectory, name))) {
      const directory = path.join(modelsDirectory, name, version);
      staged.push({ directory, metadata: await requireItemMetadata('model', directory, `models/${name}/${version} in the archive`) });
    }
  }
  return staged;
}
