import { BentoportError } from '@bentoport/spec';
import { syncItemKey, type SyncItem } from './sync-endpoint.js';

/**
 * What a sync moves, decided from the two listings before any byte moves: the items selected
 * at SRC (filters, `latest`) with the models their bentos need, minus what DST holds (matched
 * by kind, name and version: a BentoML tag names one immutable item); and, with `delete`, what
 * DST holds in the selection's scope that SRC no longer has.
 */

/** Options that choose what a sync moves. */
export interface SyncSelection {
  /**
   * Name or tag patterns (`iris*`, `svc:v1*`, `*`): an item is selected when one matches its name
   * (a pattern without `:`) or its `name:version`. `*` matches any run of characters, `?` one.
   * @default undefined (every item)
   */
  filter?: string | readonly string[];
  /** Only the newest version (by creation time) of each selected name. @default false */
  latest?: boolean;
  /** Plan the removal at DST of what SRC no longer has, within the filter's scope. @default false */
  delete?: boolean;
}

/** One item a sync sends, or removes. */
export interface PlannedSyncItem {
  item: SyncItem;
  /** `bento svc:v1`, as progress labels and dry runs show it. */
  label: string;
  /** Bytes it takes at SRC (archive or directory size), when known. */
  bytes?: number;
}

export interface SyncPlan {
  /** Models first, then the bentos that need them. */
  send: PlannedSyncItem[];
  /** Selected items DST already holds: nothing is sent for them. */
  present: PlannedSyncItem[];
  /** Items removed at DST (with `delete`): bentos first, then models. */
  remove: PlannedSyncItem[];
  /** The sum of `send`'s bytes; undefined when one of them is unknown. */
  bytesToSend?: number;
  /** Models a selected bento needs that SRC does not hold: a warning each. */
  missingModels: string[];
}

export const labelOf = (item: Pick<SyncItem, 'kind' | 'name' | 'version'>) => `${item.kind} ${item.name}:${item.version}`;

function patternExpression(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

/** Whether `item` matches one of the patterns (every item without patterns). */
export function matchesFilter(item: Pick<SyncItem, 'name' | 'version'>, filter: SyncSelection['filter']): boolean {
  const patterns = filter === undefined ? [] : typeof filter === 'string' ? [filter] : [...filter];
  if (patterns.length === 0) return true;
  return patterns.some((pattern) => {
    if (pattern.trim() === '') throw new BentoportError('ERR_INVALID_OPTION', `an empty --filter pattern matches nothing; give a name or tag pattern such as 'iris*'`);
    if (pattern.endsWith(':latest')) return patternExpression(pattern.slice(0, -':latest'.length)).test(item.name);
    return patternExpression(pattern).test(pattern.includes(':') ? `${item.name}:${item.version}` : item.name);
  });
}

/** Whether a pattern asks for the latest version only (`name:latest`). */
const asksLatest = (filter: SyncSelection['filter']) => (typeof filter === 'string' ? [filter] : [...(filter ?? [])]).some((pattern) => pattern.endsWith(':latest'));

/** The newest item of each kind and name, by creation time, then version. */
export function newestOfEachName(items: SyncItem[]): SyncItem[] {
  const newest = new Map<string, SyncItem>();
  for (const item of items) {
    const key = `${item.kind} ${item.name}`;
    const best = newest.get(key);
    if (!best || item.creationTime > best.creationTime || (item.creationTime === best.creationTime && item.version > best.version)) newest.set(key, item);
  }
  return items.filter((item) => newest.get(`${item.kind} ${item.name}`) === item);
}

const planned = (item: SyncItem): PlannedSyncItem => ({ item, label: labelOf(item), ...(item.size === undefined ? {} : { bytes: item.size }) });

/** Bentos after models, each kind by tag: the order items are sent in. */
function modelsFirst(a: SyncItem, b: SyncItem): number {
  if (a.kind !== b.kind) return a.kind === 'model' ? -1 : 1;
  return syncItemKey(a) < syncItemKey(b) ? -1 : syncItemKey(a) > syncItemKey(b) ? 1 : 0;
}

/** Plan a sync from SRC's and DST's listings. */
export function planSync(source: SyncItem[], destination: SyncItem[], selection: SyncSelection = {}): SyncPlan {
  const matching = source.filter((item) => matchesFilter(item, selection.filter));
  const selected = selection.latest || asksLatest(selection.filter) ? newestOfEachName(matching) : matching;
  const byKey = new Map(source.map((item) => [syncItemKey(item), item]));
  const wanted = new Map(selected.map((item) => [syncItemKey(item), item]));
  const missingModels: string[] = [];
  for (const bento of selected.filter((item) => item.kind === 'bento')) {
    for (const model of bento.models) {
      const key = syncItemKey({ kind: 'model', ...model });
      const found = byKey.get(key);
      if (found) wanted.set(key, found);
      else missingModels.push(`model ${model.name}:${model.version} (used by bento ${bento.name}:${bento.version})`);
    }
  }
  const held = new Set(destination.map(syncItemKey));
  const ordered = [...wanted.values()].sort(modelsFirst);
  const send = ordered.filter((item) => !held.has(syncItemKey(item))).map(planned);
  const present = ordered.filter((item) => held.has(syncItemKey(item))).map(planned);
  const remove = selection.delete ? removals(source, destination, selection) : [];
  const unknown = send.some((entry) => entry.bytes === undefined);
  return {
    send,
    present,
    remove,
    missingModels: [...new Set(missingModels)],
    ...(unknown ? {} : { bytesToSend: send.reduce((sum, entry) => sum + (entry.bytes ?? 0), 0) }),
  };
}

/**
 * What DST holds in the filter's scope that SRC does not, bentos first; a model that a bento
 * DST keeps still needs stays.
 */
function removals(source: SyncItem[], destination: SyncItem[], selection: SyncSelection): PlannedSyncItem[] {
  const sourceByKey = new Map(source.map((item) => [syncItemKey(item), item]));
  const gone = destination.filter((item) => matchesFilter(item, selection.filter) && !sourceByKey.has(syncItemKey(item)));
  const goneKeys = new Set(gone.map(syncItemKey));
  // A kept bento's models as SRC describes it: DST may know a bento only by name (an unrecorded arrival).
  const kept = destination.filter((item) => item.kind === 'bento' && !goneKeys.has(syncItemKey(item))).map((item) => sourceByKey.get(syncItemKey(item)) ?? item);
  const stillNeeded = new Set(kept.flatMap((bento) => bento.models.map((model) => syncItemKey({ kind: 'model', ...model }))));
  return gone
    .filter((item) => !stillNeeded.has(syncItemKey(item)))
    .sort((a, b) => -modelsFirst(a, b))
    .map(planned);
}
