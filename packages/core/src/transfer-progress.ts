import type { Emit } from './engine-context.js';

/**
 * One bar across every item of a push or a pull: the bytes of the items finished so far plus
 * the furthest the current item got. Plugins send an item again from its first byte after a
 * restart, or resume it part way; counting what each pass reports would add those bytes twice
 * and run past the total, so only the furthest point of an item counts.
 */
export interface TransferProgress {
  /**
   * Start the next item. `bytes` is its size when known (a push knows it from the store);
   * @default undefined (the size the plugin reports, if any)
   */
  start(label: string, bytes?: number): ItemProgress;
}

/** The progress of one item of a {@link TransferProgress}. */
export interface ItemProgress {
  /** How far the item got in the pass that reports it (passes start again at 0), and its size when the reporter knows it. */
  reached(bytes: number, total?: number): void;
  /** The item is done: all of it counts, whether it was sent, skipped by dedup or already there. */
  finish(): void;
}

/**
 * A {@link TransferProgress} that emits `bytes` events labelled with the current item.
 * `plannedTotal` is the sum of every item's size when known in advance (push); without it the
 * total grows as items report their sizes (pull), and is absent until one does.
 */
export function transferProgress(emit: Emit, plannedTotal?: number): TransferProgress {
  let finished = 0;
  let finishedTotal = 0;
  return {
    start(label, bytes) {
      let furthest = 0;
      let size = bytes;
      const report = () => {
        const itemDone = size === undefined ? furthest : Math.min(furthest, size);
        const total = plannedTotal ?? (size === undefined && finishedTotal === 0 ? undefined : finishedTotal + (size ?? 0));
        const done = finished + itemDone;
        emit({ type: 'bytes', bytesDone: total === undefined ? done : Math.min(done, total), ...(total === undefined ? {} : { bytesTotal: total }), item: label });
      };
      return {
        reached(passBytes, total) {
          if (bytes === undefined && total !== undefined) size = total;
          if (passBytes <= furthest) return;
          furthest = passBytes;
          report();
        },
        finish() {
          furthest = size ?? furthest;
          report();
          finished += furthest;
          finishedTotal += size ?? furthest;
        },
      };
    },
  };
}
