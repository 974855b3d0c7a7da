/** Which long operation an event belongs to. */
export type Operation = 'export' | 'import' | 'push' | 'pull' | 'sync';

/** A step inside an operation, in the order they happen. */
export type Phase =
  | 'resolve' // finding the item and the target
  | 'transfer' // bytes moving (encode + write, or read + decode + extract)
  | 'verify' // checking digests and metadata
  | 'commit'; // making the result visible

/** One retry a plugin is about to make, told before its backoff delay starts. */
export interface RetryDetails {
  /** The attempt about to start, counting the first one: 2 for the first retry. */
  attempt: number;
  /** The most attempts this piece of work gets (the first one and its retries). */
  attempts: number;
  /** Milliseconds until the attempt starts. */
  delayMs: number;
  /** What failed, short: a system code (`ECONNRESET`) or the failure's own words (`503`). */
  reason: string;
  /** What is being retried: `HEAD http://host/x.bento`, `PATCH team/bentos/svc upload`. */
  target: string;
}

/** Typed progress events. The CLI renders them as a bar or JSON lines. */
export type ProgressEvent =
  | {
      type: 'phase';
      operation: Operation;
      phase: Phase;
      target?: string;
      /** What moves from here on, for labels: `bento svc:v1`, `model iris:v2`. @default undefined (the operation's item) */
      item?: string;
    }
  | {
      type: 'bytes';
      operation: Operation;
      /** Bytes done so far: archive bytes written on export, read on import; content bytes of every item on push and pull. */
      bytesDone: number;
      /** Total when known in advance (import of a file of known size, every item of a push), else undefined. */
      bytesTotal?: number;
      /** The item these bytes belong to, as in the `phase` event. @default undefined (the operation's item) */
      item?: string;
      /**
       * Items finished so far, for an operation that moves many (a sync: sent, or found already
       * at the destination). `bytesDone`/`bytesTotal` then cover the whole operation, every
       * item in flight included. @default undefined (one item)
       */
      itemsDone?: number;
      /** Items the operation moves in all, with {@link itemsDone}. @default undefined (one item) */
      itemsTotal?: number;
    }
  | {
      type: 'warning';
      operation: Operation;
      message: string;
      /** Set when the warning is a retry about to happen; `message` says the same in words. @default undefined */
      retry?: RetryDetails;
    }
  | { type: 'notice'; operation: Operation; message: string };

export type ProgressListener = (event: ProgressEvent) => void;
