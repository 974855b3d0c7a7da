/**
 * How long a request already sent on an upload session may still run once the operation is
 * stopped. CNCF distribution keeps the bytes of a `PATCH` cut mid-body and then refuses every
 * request on that session (its `_state` no longer matches the bytes it holds), `DELETE` included:
 * a cut request would leave a session no one can cancel. So its answer is awaited (this long at
 * most, as a stopping process must end) and the session cancelled with the location it gives.
 */
export const STOPPING_GRACE_MS = 10_000;

/** A signal for the requests that change an upload session; `dispose` once they are done. */
export interface StoppingGrace {
  /** Fires {@link STOPPING_GRACE_MS} after the operation's signal; undefined without one. */
  signal: AbortSignal | undefined;
  dispose(): void;
}

/** The {@link StoppingGrace} of an operation stopped by `signal`. */
export function stoppingGrace(signal: AbortSignal | undefined, graceMs = STOPPING_GRACE_MS): StoppingGrace {
  if (signal === undefined) return { signal: undefined, dispose: () => {} };
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const startGrace = () => {
    timer = setTimeout(() => controller.abort(signal.reason), graceMs);
    timer.unref();
  };
  if (signal.aborted) startGrace();
  else signal.addEventListener('abort', startGrace, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      signal.removeEventListener('abort', startGrace);
      clearTimeout(timer);
    },
  };
}
