/**
 * A transfer rate smoothed over the last few seconds (an exponentially weighted moving average,
 * as rclone shows), so one slow chunk does not swing the ETA, and the estimate an average
 * since the start would give (too slow after a stall) is avoided.
 */
export interface TransferRate {
  /** Record that `bytesDone` bytes are done at `now` (milliseconds). */
  sample(bytesDone: number, now: number): void;
  /** Bytes per second, once there is something to tell; else undefined. */
  readonly bytesPerSecond: number | undefined;
}

export interface TransferRateOptions {
  /** Seconds after which an old rate weighs 1/e of its value. @default 3 */
  timeConstantSeconds?: number;
  /** Shortest interval between two samples, so a burst of tiny chunks does not read as speed. @default 250 */
  minimumIntervalMs?: number;
}

export function transferRate(options: TransferRateOptions = {}): TransferRate {
  const timeConstant = (options.timeConstantSeconds ?? 3) * 1000;
  const minimumInterval = options.minimumIntervalMs ?? 250;
  let last: { bytes: number; at: number } | undefined;
  let rate: number | undefined;
  return {
    sample(bytesDone, now) {
      if (last === undefined || bytesDone < last.bytes) {
        // A new bar (or a count that went back) starts the rate again rather than reading a negative speed.
        last = { bytes: bytesDone, at: now };
        return;
      }
      const elapsed = now - last.at;
      if (elapsed < minimumInterval) return;
      const instant = ((bytesDone - last.bytes) * 1000) / elapsed;
      const weight = 1 - Math.exp(-elapsed / timeConstant);
      rate = rate === undefined ? instant : rate + weight * (instant - rate);
      last = { bytes: bytesDone, at: now };
    },
    get bytesPerSecond() {
      return rate;
    },
  };
}

/** `1:05`, `12:00:03`: what is left, as pip and rclone print it. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}
