import { setMaxListeners } from 'node:events';
import { BentoportError, type ProgressEvent, type ProgressListener } from '@bentoport/spec';
import { operationError, progressEmitter, type Emit, type EngineContext } from './engine-context.js';
import { LOCAL_STORE, localStoreEndpoint } from './local-store-endpoint.js';
import { registryNamed, registrySyncEndpoint } from './registry-sync-endpoint.js';
import { openRemoteStore } from './remote-store.js';
import type { SyncChange, SyncEndpoint, SyncItem } from './sync-endpoint.js';
import { planSync, type PlannedSyncItem, type SyncPlan, type SyncSelection } from './sync-plan.js';

/** Options of `sync`. */
export interface SyncOptions extends SyncSelection {
  /** Only plan: list what would move and how many bytes; nothing is written anywhere. @default false */
  dryRun?: boolean;
  /**
   * Archive format written at a remote-store DST (`tar`, `gz`, …). Native keeps every archive
   * importable by BentoML itself. @default undefined (native: `.bento`, `.bentomodel`)
   */
  format?: string;
  /** Transfers in flight at once. Each streams, so memory stays bounded whatever the item sizes. @default 4 */
  concurrency?: number;
  signal?: AbortSignal;
  /**
   * Receives `phase`, `notice`, `warning` and `bytes` events with `operation: 'sync'`; each
   * `bytes` event covers the whole sync (`bytesDone`/`bytesTotal` across every item in flight,
   * `itemsDone`/`itemsTotal`), labelled with the item that moved last.
   */
  onProgress?: ProgressListener;
}

/** One item a sync sent, or would send. */
export interface SyncedItem {
  kind: SyncItem['kind'];
  /** `name:version`. */
  tag: string;
  /** Bytes written at DST (archive bytes for a remote store); for a dry run, the bytes at SRC. */
  bytes?: number;
}

export interface SyncResult {
  source: string;
  destination: string;
  dryRun: boolean;
  /** Items sent (or, for a dry run, to send), models first. */
  sent: SyncedItem[];
  /** Selected items DST already held (`kind name:version`). */
  present: string[];
  /** Items removed at DST (or, for a dry run, to remove). */
  removed: SyncedItem[];
  /** Bytes written at DST; for a dry run, the bytes to send when every size is known. */
  bytesSent?: number;
}

/** SRC or DST: `local` for the local store, the `url` of a configured registry, a path or URL for a remote store, or an endpoint. */
export type SyncTarget = string | SyncEndpoint;

const DEFAULT_CONCURRENCY = 4;

/** The endpoint a sync argument names. */
export function syncEndpoint(context: EngineContext, target: SyncTarget, format?: string): SyncEndpoint {
  if (typeof target !== 'string') return target;
  if (target === LOCAL_STORE) return localStoreEndpoint(context);
  const registry = registryNamed(context, target);
  if (registry !== undefined) return registrySyncEndpoint(context, registry);
  return openRemoteStore(context, target, format === undefined ? {} : { format });
}

const tagOf = (item: SyncItem) => `${item.name}:${item.version}`;
const synced = (entry: PlannedSyncItem, bytes?: number): SyncedItem => ({ kind: entry.item.kind, tag: tagOf(entry.item), ...(bytes === undefined ? {} : { bytes }) });

/**
 * One progress line for the whole sync: finished items count whole, each item in flight counts
 * as far as it got; items found at DST count as done from the start.
 */
function syncProgress(emit: Emit, plan: SyncPlan) {
  const itemsTotal = plan.send.length;
  const bytesTotal = plan.bytesToSend;
  let itemsDone = 0;
  let finishedBytes = 0;
  const inFlight = new Map<string, number>();
  const report = (item: string) => {
    let bytesDone = finishedBytes;
    for (const bytes of inFlight.values()) bytesDone += bytes;
    emit({ type: 'bytes', bytesDone: bytesTotal === undefined ? bytesDone : Math.min(bytesDone, bytesTotal), ...(bytesTotal === undefined ? {} : { bytesTotal }), item, itemsDone, itemsTotal });
  };
  return {
    /** A listener for one item's own `bytes` events (its bytes so far, any unit the endpoint counts). */
    itemListener(entry: PlannedSyncItem): ProgressListener {
      return (event: ProgressEvent) => {
        if (event.type !== 'bytes') return emit(event);
        // An endpoint may count encoded bytes; an item never counts past its planned size.
        inFlight.set(entry.label, entry.bytes === undefined ? event.bytesDone : Math.min(event.bytesDone, entry.bytes));
        report(entry.label);
      };
    },
    finished(entry: PlannedSyncItem, bytes: number) {
      inFlight.delete(entry.label);
      finishedBytes += entry.bytes ?? bytes;
      itemsDone += 1;
      report(entry.label);
    },
  };
}

/**
 * Run `work` over `entries` with at most `limit` in flight. The first failure stops new starts
 * (and aborts the ones in flight through `controller`); it is thrown once every started one ended.
 */
async function inPool<T>(entries: T[], limit: number, controller: AbortController, work: (entry: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const runner = async () => {
    while (failure === undefined && next < entries.length) {
      const entry = entries[next++] as T;
      try {
        await work(entry);
      } catch (error) {
        failure ??= { error };
        controller.abort(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, entries.length)) }, runner));
  if (failure) throw failure.error;
}

/** Send every planned item: models first (all of them), then the bentos that need them. */
async function transfer(source: SyncEndpoint, destination: SyncEndpoint, plan: SyncPlan, options: SyncOptions, emit: Emit, change: SyncChange, sent: SyncedItem[]) {
  const controller = new AbortController();
  // Each transfer in flight adds a few listeners (streams, transports) to the shared signal.
  setMaxListeners(0, controller.signal);
  const stop = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', stop, { once: true });
  const signal = controller.signal;
  const progress = syncProgress(emit, plan);
  const sendOne = async (entry: PlannedSyncItem) => {
    emit({ type: 'phase', phase: 'transfer', target: destination.display, item: entry.label });
    const onProgress = progress.itemListener(entry);
    const payload = await source.open(entry.item, { signal, onProgress });
    const receipt = await destination.receive(payload, { signal, onProgress });
    change.received.push(receipt.item);
    sent.push(synced(entry, receipt.bytes));
    progress.finished(entry, receipt.bytes);
  };
  try {
    const limit = options.concurrency ?? DEFAULT_CONCURRENCY;
    await inPool(plan.send.filter((entry) => entry.item.kind === 'model'), limit, controller, sendOne);
    await inPool(plan.send.filter((entry) => entry.item.kind === 'bento'), limit, controller, sendOne);
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}

async function removeAll(destination: SyncEndpoint, plan: SyncPlan, options: SyncOptions, emit: Emit, change: SyncChange, removed: SyncedItem[]) {
  if (plan.remove.length === 0) return;
  if (!destination.remove) throw new BentoportError('ERR_INVALID_OPTION', `${destination.display} cannot delete; sync without --delete`);
  for (const entry of plan.remove) {
    await destination.remove(entry.item, { ...(options.signal ? { signal: options.signal } : {}) });
    change.removed.push(entry.item);
    removed.push(synced(entry));
    emit({ type: 'notice', message: `Removed ${entry.label} from ${destination.display}` });
  }
}

/**
 * Sync SRC into DST: list both, plan (sync-plan.ts), send what DST lacks with several transfers
 * in flight, models before the bentos that need them, remove (with `delete`) what SRC no longer
 * has, then let DST record the change (a remote store writes its index last). A rerun after an
 * interruption sends only what did not arrive verified.
 * @throws {BentoportError} ERR_INVALID_OPTION (bad filter, `delete` at a DST that cannot), the
 * endpoints' errors, ERR_ABORTED.
 */
export async function sync(context: EngineContext, sourceTarget: SyncTarget, destinationTarget: SyncTarget, options: SyncOptions = {}): Promise<SyncResult> {
  const emit = progressEmitter(context, 'sync', options.onProgress);
  const source = syncEndpoint(context, sourceTarget);
  const destination = syncEndpoint(context, destinationTarget, options.format);
  if (source.display === destination.display) throw new BentoportError('ERR_INVALID_OPTION', `sync from ${source.display} into itself does nothing; name two different places`);
  emit({ type: 'phase', phase: 'resolve', target: destination.display });
  const call = options.signal ? { signal: options.signal } : {};
  let plan: SyncPlan;
  try {
    // SRC must describe every item (a bento's models); DST need only say what it holds.
    const sourceItems = await source.list({ ...call, scan: 'heads', existing: true });
    const destinationItems = await destination.list({ ...call, scan: 'names' });
    plan = planSync(sourceItems, destinationItems, options);
  } catch (error) {
    throw operationError(error, options.signal, 'sync', 'list', `${source.display} -> ${destination.display}`);
  }
  for (const missing of plan.missingModels) emit({ type: 'warning', message: `${missing} is not in ${source.display}; not sent` });
  const base = { source: source.display, destination: destination.display, present: plan.present.map((entry) => entry.label) };
  if (options.dryRun) {
    return {
      ...base,
      dryRun: true,
      sent: plan.send.map((entry) => synced(entry, entry.bytes)),
      removed: plan.remove.map((entry) => synced(entry)),
      ...(plan.bytesToSend === undefined ? {} : { bytesSent: plan.bytesToSend }),
    };
  }
  const change: SyncChange = { received: [], removed: [], present: plan.present.map((entry) => entry.item) };
  const sent: SyncedItem[] = [];
  const removed: SyncedItem[] = [];
  let failure: { error: unknown } | undefined;
  try {
    await transfer(source, destination, plan, options, emit, change, sent);
    await removeAll(destination, plan, options, emit, change, removed);
  } catch (error) {
    failure = { error };
  }
  // What arrived is recorded even when a transfer failed (not after an abort: nothing more is
  // written then, and a rerun finds what arrived by its checksum sidecar). A failure to record
  // it does not hide the transfer's own error.
  if (!options.signal?.aborted) {
    try {
      emit({ type: 'phase', phase: 'commit', target: destination.display });
      await destination.finish?.(change, call);
    } catch (error) {
      failure ??= { error };
    }
  }
  await Promise.all([source.release?.(), destination.release?.()]);
  if (failure) throw operationError(failure.error, options.signal, 'sync', 'transfer', `${source.display} -> ${destination.display}`);
  return { ...base, dryRun: false, sent, removed, bytesSent: sent.reduce((sum, entry) => sum + (entry.bytes ?? 0), 0) };
}
