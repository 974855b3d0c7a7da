import { Readable } from 'node:stream';

/** What the bodies handed to an encoder have been asked for, to judge read-ahead. */
export interface BodyMeter {
  /** Bytes all bodies have pushed so far (what the encoder pulled, buffered or not). */
  pulled: number;
  /**
   * Bodies stop producing (they stall, without ending) once `pulled` reaches this: an encoder
   * that pumps bodies in microtasks, never yielding to timers, still cannot run away.
   */
  readonly budget: number;
  /** Called once, when the budget is reached. */
  onBudgetReached?: () => void;
}

export function newMeter(budget = Number.POSITIVE_INFINITY): BodyMeter {
  return { pulled: 0, budget };
}

/** Resolve once the bodies of `meter` have used up its budget; reject when `output` fails first. */
export function budgetReached(meter: BodyMeter, output: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (meter.pulled >= meter.budget) resolve();
    meter.onBudgetReached = resolve;
    output.once('error', reject);
  });
}

const CHUNK = 64 * 1024;

/**
 * A body of `size` zero bytes, generated only when the encoder reads: declaring 9 GiB costs
 * nothing until someone pulls, and `meter` shows how far anyone did. Each chunk is a fresh buffer,
 * so an encoder that keeps chunks (for a later compression step) does hold real memory for them.
 */
export function lazyZeroBody(size: number, meter: BodyMeter): Readable {
  let remaining = size;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (remaining === 0) {
        this.push(null);
        return;
      }
      if (meter.pulled >= meter.budget) return; // the stall: no push, no end
      const length = Math.min(CHUNK, remaining);
      remaining -= length;
      meter.pulled += length;
      this.push(Buffer.alloc(length));
      if (remaining === 0) this.push(null);
      if (meter.pulled >= meter.budget) {
        const reached = meter.onBudgetReached;
        meter.onBudgetReached = undefined;
        reached?.();
      }
    },
  });
}

/** `data` as a stream cut at the given chunk sizes (cycled), to vary what an encoder sees. */
export function chunkedBody(data: Buffer, chunkSizes: readonly number[]): Readable {
  let offset = 0;
  let turn = 0;
  return new Readable({
    read() {
      if (offset >= data.length) {
        this.push(null);
        return;
      }
      const size = Math.max(1, chunkSizes[turn++ % chunkSizes.length] ?? CHUNK);
      // A copy, so an encoder that mutates its input cannot change the next run's bytes.
      this.push(Buffer.from(data.subarray(offset, offset + size)));
      offset += size;
    },
  });
}
