/**
 * What an encoder may pull from bodies ahead of its consumer without declaring it: room for a
 * parallel compressor's blocks in flight on a few cores. More must be declared with the suite's
 * `readAheadBytes` option.
 */
export const READ_AHEAD_ALLOWANCE = 16 * 1024 * 1024;

export function readAheadLimit(readAheadBytes: number): number {
  return READ_AHEAD_ALLOWANCE + readAheadBytes;
}
