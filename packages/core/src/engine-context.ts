import { BentoportError, isBentoportError, type Operation, type ProgressEvent, type ProgressListener } from '@bentoport/spec';
import { toBentoportError } from '@bentoport/plugin-kit';
import type { ItemStore } from './item-store.js';
import type { PluginSet } from './plugins.js';
import type { ExtractionLimits } from './safe-extract.js';
import type { ItemKind } from './target.js';

/** What every operation needs of the instance `createBentoport` built. */
export interface EngineContext {
  /** `$BENTOML_HOME`, absolute. */
  home: string;
  bentos: ItemStore;
  models: ItemStore;
  plugins: PluginSet;
  /** Directory relative paths resolve against. */
  cwd: string;
  /** Safety limits of every extraction into staging. */
  limits?: Partial<ExtractionLimits>;
  /** The instance's listener; each call may add its own. */
  onProgress?: ProgressListener;
}

/** A progress event before the operation is stamped on it. */
export type EventWithoutOperation = ProgressEvent extends infer Event ? (Event extends ProgressEvent ? Omit<Event, 'operation'> : never) : never;

/** Reports one event of the running operation. */
export type Emit = (event: EventWithoutOperation) => void;

export function storeOf(context: EngineContext, kind: ItemKind): ItemStore {
  return kind === 'bento' ? context.bentos : context.models;
}

/**
 * The listener of one call: stamps `operation` on each event (a registry's own stamp included)
 * and tells the instance's listener, then the call's.
 */
export function progressEmitter(context: EngineContext, operation: Operation, callListener?: ProgressListener): Emit {
  // No listener: no event object per file read (10,000 of them for a bento of small files).
  if (context.onProgress === undefined && callListener === undefined) return () => undefined;
  return (event) => {
    const full = { ...event, operation } as ProgressEvent;
    context.onProgress?.(full);
    callListener?.(full);
  };
}

/**
 * The coded error an operation ends with. After an abort, the abort's reason wins over what it
 * caused, and is ERR_ABORTED whatever the caller aborted with (`controller.abort(new Error('…'))`
 * is not an I/O failure), unless it is coded already.
 */
export function operationError(error: unknown, signal: AbortSignal | undefined, component: string, operation: string, target: string): BentoportError {
  if (!signal?.aborted) return toBentoportError(error, component, operation, target);
  const reason: unknown = signal.reason ?? error;
  if (isBentoportError(reason)) return reason;
  const coded = toBentoportError(reason, component, operation, target);
  return coded.code === 'ERR_ABORTED' ? coded : new BentoportError('ERR_ABORTED', coded.message, { cause: reason });
}
