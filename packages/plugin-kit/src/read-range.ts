/** A read's byte range, checked: see {@link checkReadRange}. */
export interface ReadRange {
  /** First byte. */
  start: number;
  /** One past the last byte; Infinity for "to the end". */
  end: number;
}

/**
 * The `[start, end)` a transport's `read` was asked for, with `start` 0 and `end` Infinity when
 * not given. A negative, fractional or reversed range is a caller's mistake: a `RangeError`
 * reading `[component] OPERATION target: start must be …`.
 */
export function checkReadRange(component: string, operation: string, target: string, options: { start?: number; end?: number }): ReadRange {
  const start = options.start ?? 0;
  const end = options.end ?? Infinity;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new RangeError(`[${component}] ${operation} ${target}: start must be a non-negative integer, got ${start}`);
  }
  if (end !== Infinity && (!Number.isSafeInteger(end) || end < start)) {
    throw new RangeError(`[${component}] ${operation} ${target}: end must be an integer >= start, got ${end}`);
  }
  return { start, end };
}
