import { stat } from 'node:fs/promises';
import type { ProgressEvent } from '@bentoport/spec';
import { directorySize } from './directory-size.js';
import { storeOf, type EngineContext } from './engine-context.js';
import { runImportPipeline, type ModelNotices } from './import-pipeline.js';
import { importItem } from './import-item.js';
import { itemEntries } from './item-entries.js';
import { readStoredSignature, storeItemSignature, storeSignaturePath } from './item-signatures.js';
import { requireItemMetadata, type StoreItem } from './item-store.js';
import { extractEntries } from './safe-extract.js';
import { type SyncCallOptions, type SyncEndpoint, type SyncEntriesOptions, type SyncItem, type SyncPayload, type SyncReceipt } from './sync-endpoint.js';
import { formatTag } from './tag.js';

/** The word `sync` and the CLI use for the local store as SRC or DST. */
export const LOCAL_STORE = 'local';

const SYNC_NOTICES: ModelNotices = {
  operation: 'import',
  installed: (tag) => `Model ${tag} imported into the model store.`,
};

async function isFile(target: string): Promise<boolean> {
  return (await stat(target).catch(() => undefined))?.isFile() ?? false;
}

/** A store item as a sync sees it: a bento's size is without its models. */
async function syncItemOf(item: StoreItem): Promise<SyncItem> {
  return {
    kind: item.kind,
    name: item.tag.name,
    version: item.tag.version,
    creationTime: item.metadata.creationTime,
    size: await directorySize(item.path, item.kind === 'bento' ? ['models'] : []),
    models: item.metadata.models.filter((model) => model.registry === 'bentoml').map((model) => ({ name: model.tag.name, version: model.tag.version })),
    signed: await isFile(storeSignaturePath(item)),
    ...(item.metadata.module ? { module: item.metadata.module } : {}),
    document: item.metadata.document,
  };
}

/** A `bytes` listener that reports only the item's own byte count to `options.onProgress`. */
function bytesOnly(options: SyncCallOptions): (event: ProgressEvent) => void {
  return (event) => {
    if (event.type === 'bytes') options.onProgress?.(event);
  };
}

/**
 * The local store as a sync endpoint. Items leave it as entries (a bento without `models/`,
 * as a registry push sends it) and enter it through the one import pipeline: an archive by
 * `importItem` with its SHA-256 checked while it streams, entries by safe extraction.
 */
export function localStoreEndpoint(context: EngineContext): SyncEndpoint {
  const storeItemOf = (item: SyncItem) => storeOf(context, item.kind).get(`${item.name}:${item.version}`);

  async function list(): Promise<SyncItem[]> {
    const items = [...(await context.models.list()), ...(await context.bentos.list())];
    return Promise.all(items.map(syncItemOf));
  }

  async function open(item: SyncItem): Promise<SyncPayload> {
    const stored = await storeItemOf(item);
    const exclude = item.kind === 'bento' ? ['models'] : [];
    const signatureText = await readStoredSignature(stored);
    return {
      item,
      ...(item.size === undefined ? {} : { contentBytes: item.size }),
      entries: (options: SyncEntriesOptions) => {
        // Progress in content bytes read, the unit of `contentBytes`, whatever the receiver encodes.
        let done = 0;
        return itemEntries({
          trees: [{ directory: stored.path, prefix: '', exclude }],
          // BentoML writes `models/` into every bento archive, even empty.
          virtualDirectories: item.kind === 'bento' ? ['models'] : [],
          mtime: Math.floor(stored.metadata.creationTime / 1_000_000),
          keepSymlinks: options.keepSymlinks ?? true,
          onFileBytes: (bytes) => options.onProgress?.({ type: 'bytes', operation: 'sync', bytesDone: (done += bytes) }),
        });
      },
      ...(signatureText === undefined ? {} : { signatureText }),
    };
  }

  async function receiveEntries(payload: SyncPayload, options: SyncCallOptions): Promise<StoreItem> {
    const { item } = payload;
    let bytes = 0;
    const installed = await runImportPipeline(context, {
      kind: item.kind,
      emit: () => undefined,
      notices: SYNC_NOTICES,
      stage: async (directory) => {
        const entries = payload.entries({ ...options, keepSymlinks: true });
        bytes = (await extractEntries(entries, directory, { limits: context.limits, signal: options.signal })).bytes;
      },
      verify: (directory) => requireItemMetadata(item.kind, directory, `${item.kind} ${item.name}:${item.version}`),
      models: async () => ({ staged: [], present: [] }),
    });
    options.onProgress?.({ type: 'bytes', operation: 'sync', bytesDone: bytes });
    return installed.item;
  }

  async function receive(payload: SyncPayload, options: SyncCallOptions): Promise<SyncReceipt> {
    const { archive } = payload;
    let stored: StoreItem;
    let bytes: number | undefined;
    if (archive) {
      // The sync reports this item's bytes itself: the instance's listener must not see an import.
      const quiet: EngineContext = { ...context, onProgress: undefined };
      const result = await importItem(quiet, payload.item.kind, await archive.open(options), archive.format, {
        sha256: archive.sha256,
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: bytesOnly(options),
      });
      stored = result.item;
      bytes = result.size;
    } else {
      stored = await receiveEntries(payload, options);
      bytes = payload.contentBytes;
    }
    if (payload.signatureText !== undefined) await storeItemSignature(context, stored, payload.signatureText);
    const received = await syncItemOf(stored);
    // A source without an archive (a registry) may not know its content bytes in advance: what
    // was installed is the count, in the same unit (a bento without its models).
    return { bytes: bytes ?? received.size ?? 0, item: received };
  }

  async function remove(item: SyncItem): Promise<void> {
    await storeOf(context, item.kind).delete(formatTag({ name: item.name, version: item.version }));
  }

  return { display: `local store ${context.home}`, list, open, receive, remove };
}
