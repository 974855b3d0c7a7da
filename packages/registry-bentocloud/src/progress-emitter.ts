import type { ProgressEvent, ProgressListener } from '@bentoport/spec';

/** A progress event without its `operation`, which the emitter adds. */
export type EventBody = ProgressEvent extends infer Event ? (Event extends ProgressEvent ? Omit<Event, 'operation'> : never) : never;

/** Send events to `listener` (if any), stamped with `operation`. */
export function progressEmitter(listener: ProgressListener | undefined, operation: 'push' | 'pull'): (event: EventBody) => void {
  return (event) => listener?.({ ...event, operation } as ProgressEvent);
}
