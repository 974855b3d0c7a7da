import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { BentoportError, isBentoportError, type ItemMetadata } from '@bentoport/spec';
import { bentosUsingModel } from './delete-items.js';
import { storeOf, type Emit, type EngineContext } from './engine-context.js';
import type { ItemStore, StoreItem } from './item-store.js';
import { createStagingDirectory, removeStagingDirectory } from './staging.js';
import { formatTag } from './tag.js';
import type { ItemKind } from './target.js';

/**
 * The one way into the store, shared by import, model import, folder import and pull:
 *
 *   source → decode → stage → verify → install
 *
 * The source and decoder differ per operation (an archive through a transport and a format, a
 * local directory, a registry's entries); from there on every item takes the same steps. Its
 * files are safe-extracted into a staging directory inside the store's file system; its yaml,
 * digest and tag are verified there; a bento's models are staged and verified beside it; and
 * only then does everything enter the store, each item by one rename under its name's lock.
 */

/** One item in the staging directory: where it sits and its parsed yaml. */
export interface StagedItem {
  directory: string;
  metadata: ItemMetadata;
}

/** A bento's models, staged and verified, ready to install with it. */
export interface StagedModels {
  staged: StagedItem[];
  /** Models not staged because the model store already had them (`name:version`). */
  present: string[];
}

/** How an operation words what installing did to a bento's models. */
export interface ModelNotices {
  /** The operation, for "the import failed". */
  operation: 'import' | 'pull';
  installed(tag: string): string;
  /** Said when the model store already has a staged model; without it nothing is said. */
  skipped?(tag: string): string;
}

/** How one operation feeds the pipeline. */
export interface ImportRequest {
  kind: ItemKind;
  /**
   * Source → decode → stage: write the item's files into `itemDirectory` (an empty directory),
   * by safe extraction. `staging` (its parent) may hold scratch files, such as a spooled archive.
   */
  stage(itemDirectory: string, staging: string): Promise<void>;
  /** Verify what was staged (digest, yaml, tag) and return the parsed yaml; throws in the source's words. */
  verify(itemDirectory: string): Promise<ItemMetadata>;
  /** A bento's models, staged and verified (the embedded ones, or ones pulled into `staging`). */
  models(bentoDirectory: string, staging: string, metadata: ItemMetadata): Promise<StagedModels>;
  /**
   * A last check of the staged item with its models, before anything is installed: the
   * signature policy. Models the store already has are checked as the store holds them, since
   * those are the copies the item will use. @default no check
   */
  check?(itemDirectory: string, metadata: ItemMetadata, models: StagedModels): Promise<void>;
  /** Replace an existing copy of this version (pull `force`), once the new one is staged and verified. @default false */
  replace?: boolean;
  emit: Emit;
  notices: ModelNotices;
}

/** What entered the store. */
export interface Installed {
  item: StoreItem;
  modelsInstalled: string[];
  modelsSkipped: string[];
}

/** Run `body` with a fresh staging directory, removed afterwards whatever happens. */
export async function withStaging<T>(context: EngineContext, body: (staging: string) => Promise<T>): Promise<T> {
  const staging = await createStagingDirectory(context.home, [context.bentos.base, context.models.base]);
  try {
    return await body(staging);
  } finally {
    await removeStagingDirectory(staging);
  }
}

/** @throws {BentoportError} ERR_ALREADY_EXISTS, with BentoML's message, unless `replace`. */
async function refuseExisting(store: ItemStore, metadata: ItemMetadata, replace: boolean): Promise<void> {
  if (!replace && (await store.has(metadata.tag))) {
    throw new BentoportError('ERR_ALREADY_EXISTS', `Item '${formatTag(metadata.tag)}' already exists in the store ${store.base}`);
  }
}

/**
 * Stage, verify and install one item (and a bento's models) as {@link ImportRequest} describes.
 * Nothing enters the store unless every step before the install succeeded; a failed install
 * takes out again the models it put in.
 */
export async function runImportPipeline(context: EngineContext, request: ImportRequest): Promise<Installed> {
  const store = storeOf(context, request.kind);
  const replace = request.replace ?? false;
  return withStaging(context, async (staging) => {
    const directory = path.join(staging, 'item');
    await mkdir(directory);
    await request.stage(directory, staging);
    request.emit({ type: 'phase', phase: 'verify' });
    const metadata = await request.verify(directory);
    await refuseExisting(store, metadata, replace);
    const models = request.kind === 'bento' ? await request.models(directory, staging, metadata) : { staged: [], present: [] };
    await request.check?.(directory, metadata, models);
    request.emit({ type: 'phase', phase: 'commit' });
    return installWithModels(context, store, { directory, metadata }, models, replace, request);
  });
}

/** Install a staged item after its models; if the item fails, the models go out again. */
async function installWithModels(
  context: EngineContext,
  store: ItemStore,
  item: StagedItem,
  models: StagedModels,
  replace: boolean,
  request: ImportRequest,
): Promise<Installed> {
  const installedModels = await installModels(context, models.staged, request.emit, request.notices);
  try {
    // The bento enters without models/: its models live in the model store.
    if (store.kind === 'bento') await rm(path.join(item.directory, 'models'), { recursive: true, force: true });
    const installed = await store.install(item.directory, item.metadata, { replace });
    return {
      item: installed,
      modelsInstalled: installedModels.installed.map((model) => formatTag(model.tag)),
      modelsSkipped: [...models.present, ...installedModels.skipped],
    };
  } catch (error) {
    await removeModelsAgain(context, installedModels.installed, request.emit, request.notices);
    throw error;
  }
}

/** What {@link installModels} did. */
export interface ModelsInstalled {
  /** The models this call put into the store, in order. */
  installed: StoreItem[];
  /** Staged models the store already had (`name:version`). */
  skipped: string[];
}

/**
 * Install staged models, all or none: the ones the store has are skipped, and when one fails
 * those installed before it are removed again. A process killed in between leaves only whole
 * models, which a retry skips.
 */
export async function installModels(context: EngineContext, models: StagedItem[], emit: Emit, notices: ModelNotices): Promise<ModelsInstalled> {
  const result: ModelsInstalled = { installed: [], skipped: [] };
  try {
    for (const model of models) {
      const installed = await installModel(context.models, model);
      const modelTag = formatTag(model.metadata.tag);
      if (installed) {
        result.installed.push(installed);
        emit({ type: 'notice', message: notices.installed(modelTag) });
        continue;
      }
      result.skipped.push(modelTag);
      if (notices.skipped) emit({ type: 'notice', message: notices.skipped(modelTag) });
    }
  } catch (error) {
    await removeModelsAgain(context, result.installed, emit, notices);
    throw error;
  }
  return result;
}

/** The model, installed; undefined when the store has it already. */
async function installModel(models: ItemStore, model: StagedItem): Promise<StoreItem | undefined> {
  if (await models.has(model.metadata.tag)) return undefined;
  try {
    return await models.install(model.directory, model.metadata);
  } catch (error) {
    // Another import put it there meanwhile: the same tag is the same model.
    if (isBentoportError(error, 'ERR_ALREADY_EXISTS')) return undefined;
    throw error;
  }
}

/**
 * Take out again, newest first, the models a failed operation installed. One that a bento in the
 * store now uses stays: a concurrent import of that bento found it here and skipped its own
 * copy. A removal that fails is reported and does not hide the error that caused it.
 */
async function removeModelsAgain(context: EngineContext, installed: StoreItem[], emit: Emit, notices: ModelNotices): Promise<void> {
  for (const model of [...installed].reverse()) {
    const modelTag = formatTag(model.tag);
    try {
      if ((await bentosUsingModel(context.bentos, model.tag)).length > 0) continue;
      await context.models.delete(modelTag);
      emit({ type: 'notice', message: `Model ${modelTag} removed from the model store again, because the ${notices.operation} failed.` });
    } catch (error) {
      emit({ type: 'warning', message: `Model ${modelTag} could not be removed from the model store again: ${(error as Error).message}` });
    }
  }
}
