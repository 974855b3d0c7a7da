/**
 * `transform` applied to every item of `source` with up to `concurrency` calls in flight, the
 * results yielded in source order. Memory is bounded by `concurrency` inputs and outputs.
 * A failed call fails the iteration when its turn comes; later calls are left to settle unread.
 */
export async function* mapInOrder<Input, Output>(
  source: AsyncIterable<Input>,
  transform: (item: Input) => Promise<Output>,
  concurrency: number,
): AsyncGenerator<Output> {
  const limit = Math.max(1, Math.floor(concurrency));
  const inFlight: Promise<Output>[] = [];
  try {
    for await (const item of source) {
      const result = transform(item);
      // Marked handled until awaited in order; otherwise a later failure while we wait on an
      // earlier piece would crash the process as an unhandled rejection.
      result.catch(() => undefined);
      inFlight.push(result);
      while (inFlight.length >= limit) yield await (inFlight.shift() as Promise<Output>);
    }
    while (inFlight.length > 0) yield await (inFlight.shift() as Promise<Output>);
  } finally {
    inFlight.length = 0;
  }
}
