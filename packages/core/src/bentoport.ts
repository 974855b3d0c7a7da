import path from 'node:path';
import type { Bentoport, BentoportOptions } from './bentoport-types.js';
import { deleteItems } from './delete-items.js';
import { planDelete, planExport, planImport, planPull, planPushResult } from './dry-run.js';
import type { EngineContext } from './engine-context.js';
import { exportItem } from './export-item.js';
import { importItem } from './import-item.js';
import { itemManifest, signItem, verifyItem } from './item-signatures.js';
import { verifyArchive } from './archive-verification.js';
import { defaultHome, openItemStore, TYPE_NAME, type StoreItem } from './item-store.js';
import { pluginSet } from './plugins.js';
import { pull } from './pull.js';
import { push } from './push.js';
import { getRemoteItem, importFromRemoteStore, listRemoteItems } from './remote-store-listing.js';
import { sync } from './sync.js';
import { formatTag } from './tag.js';

/**
 * Create the bentoport API over one BentoML home with the given plugins.
 * @example
 * ```ts
 * import { createBentoport } from '@bentoport/core';
 * import { tarFormat } from '@bentoport/format-tar';
 * import { fsTransport } from '@bentoport/transport-fs';
 *
 * const bentoport = createBentoport({ formats: [tarFormat()], transports: [fsTransport()] });
 * const { destination, sha256 } = await bentoport.exportBento('iris_classifier:latest', './iris.tar.gz');
 * ```
 */
export function createBentoport(options: BentoportOptions = {}): Bentoport {
  const home = path.resolve(options.home ?? defaultHome());
  const context: EngineContext = {
    home,
    bentos: openItemStore(home, 'bento'),
    models: openItemStore(home, 'model'),
    plugins: pluginSet(options.formats ?? [], options.transports ?? [], options.registries ?? []),
    cwd: options.cwd ?? process.cwd(),
    limits: options.limits,
    onProgress: options.onProgress,
  };
  const { bentos, models } = context;
  return {
    home,
    bentos,
    models,
    exportBento: (tag, target, outputFormat, exportOptions) => exportItem(context, 'bento', tag, target, outputFormat, exportOptions),
    importBento: (source, inputFormat, importOptions) => importItem(context, 'bento', source, inputFormat, importOptions),
    exportModel: (tag, target, outputFormat, exportOptions) => exportItem(context, 'model', tag, target, outputFormat, exportOptions),
    importModel: (source, inputFormat, importOptions) => importItem(context, 'model', source, inputFormat, importOptions),
    listBentos: (tagLike) => bentos.list(tagLike),
    getBento: (tagLike) => bentos.get(tagLike),
    deleteBento: (tagLike) => deleteItems(context, 'bento', tagLike),
    listModels: (tagLike) => models.list(tagLike),
    getModel: (tagLike) => models.get(tagLike),
    deleteModel: (tagLike) => deleteItems(context, 'model', tagLike),
    push: (tag, pushOptions) => push(context, 'bento', tag, pushOptions),
    pull: (tag, pullOptions) => pull(context, 'bento', tag, pullOptions),
    pushModel: (tag, pushOptions) => push(context, 'model', tag, pushOptions),
    pullModel: (tag, pullOptions) => pull(context, 'model', tag, pullOptions),
    signBento: (tag, signOptions) => signItem(context, 'bento', tag, signOptions),
    verifyBento: (tag, verifyOptions) => verifyItem(context, 'bento', tag, verifyOptions),
    signModel: (tag, signOptions) => signItem(context, 'model', tag, signOptions),
    verifyBentoArchive: (source, inputFormat, verifyOptions) => verifyArchive(context, 'bento', source, inputFormat, verifyOptions),
    verifyModelArchive: (source, inputFormat, verifyOptions) => verifyArchive(context, 'model', source, inputFormat, verifyOptions),
    verifyModel: (tag, verifyOptions) => verifyItem(context, 'model', tag, verifyOptions),
    sync: (source, destination, syncOptions) => sync(context, source, destination, syncOptions),
    listRemoteBentos: (url, tagLike, callOptions) => listRemoteItems(context, url, 'bento', tagLike, callOptions),
    listRemoteModels: (url, tagLike, callOptions) => listRemoteItems(context, url, 'model', tagLike, callOptions),
    getRemoteBento: (url, tagLike, callOptions) => getRemoteItem(context, url, 'bento', tagLike, callOptions),
    getRemoteModel: (url, tagLike, callOptions) => getRemoteItem(context, url, 'model', tagLike, callOptions),
    importFromRemoteStore: (url, tagLike, importOptions) => importFromRemoteStore(context, url, tagLike, importOptions),
    bentoManifest: (tag) => itemManifest(context, 'bento', tag),
    modelManifest: (tag) => itemManifest(context, 'model', tag),
    dryRun: {
      exportBento: (tag, target, outputFormat, exportOptions) => planExport(context, 'bento', tag, target, outputFormat, exportOptions),
      exportModel: (tag, target, outputFormat, exportOptions) => planExport(context, 'model', tag, target, outputFormat, exportOptions),
      importBento: (source, inputFormat, importOptions) => planImport(context, 'bento', source, inputFormat, importOptions),
      importModel: (source, inputFormat, importOptions) => planImport(context, 'model', source, inputFormat, importOptions),
      push: (tag, pushOptions) => planPushResult(context, 'bento', tag, pushOptions),
      pushModel: (tag, pushOptions) => planPushResult(context, 'model', tag, pushOptions),
      pull: (tag, pullOptions) => planPull(context, 'bento', tag, pullOptions),
      pullModel: (tag, pullOptions) => planPull(context, 'model', tag, pullOptions),
      deleteBento: (tagLike) => planDelete(context, 'bento', tagLike),
      deleteModel: (tagLike) => planDelete(context, 'model', tagLike),
    },
  };
}

/** `Bento(tag="name:version")` / `Model(tag="…")`, as BentoML prints items. */
export function describeItem(item: StoreItem): string {
  return `${TYPE_NAME[item.kind]}(tag="${formatTag(item.tag)}")`;
}
