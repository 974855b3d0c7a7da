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
  /**
   * The bytes of the items still to come, once known (a pull learns its models' sizes after the
   * bento): from then on the total is what is done plus these, fixed. Undefined when one of them
   * is unknown: the total then grows as each item starts.
   */
  plan(remainingBytes: number | undefined): void;
}

/** The progress of one item of a {@link TransferProgress}. */
export interface ItemProgress {
  /** How far the item got in the pass that reports it (passes start again at 0), and its size when the reporter knows it. */
  reached(bytes: number, total?: number): void;
  /** The item is done: all of it counts, whether it was sent, skipped by dedup or already there. */
  finish(): void;
}

/** How the total of a {@link TransferProgress} is known. */
export interface TransferProgressOptions {
  /** The sum of every item's size, known before the first byte (push). @default undefined */
  plannedTotal?: number | undefined;
  /**
   * More items may follow whose sizes are not known yet (a bento pull, before its models are
   * known): no total is shown until {@link TransferProgress.plan}, so the bar does not read 100%
   * after the first item and then fall back. @default false
   */
  totalPending?: boolean;
}

/**
 * A {@link TransferProgress} that emits `bytes` events labelled with the current item. With a
 * planned total (push) the bar's total is fixed from the first event; without one it grows as
 * items report their sizes (a pull from a registry that cannot tell sizes up front).
 */
export function transferProgress(emit: Emit, options: TransferProgressOptions = {}): TransferProgress {
  let plannedTotal = options.plannedTotal;
  let pending = options.totalPending ?? false;
  let finished = 0;
  let finishedTotal = 0;
  return {
    plan(remainingBytes) {
      pending = false;
      if (remainingBytes !== undefined) plannedTotal = finished + remainingBytes;
    },
    start(label, bytes) {
      let furthest = 0;
      let size = bytes;
      const report = () => {
        const itemDone = size === undefined ? furthest : Math.min(furthest, size);
        const total = pending ? undefined : (plannedTotal ?? (size === undefined && finishedTotal === 0 ? undefined : finishedTotal + (size ?? 0)));
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
