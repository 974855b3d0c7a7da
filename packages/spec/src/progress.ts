/** Which long operation an event belongs to. */
export type Operation = 'export' | 'import' | 'push' | 'pull';

/** A step inside an operation, in the order they happen. */
export type Phase =
  | 'resolve' // finding the item and the target
  | 'transfer' // bytes moving (encode + write, or read + decode + extract)
  | 'verify' // checking digests and metadata
  | 'commit'; // making the result visible

/** Typed progress events. The CLI renders them as a bar or JSON lines. */
export type ProgressEvent =
  | { type: 'phase'; operation: Operation; phase: Phase; target?: string }
  | {
      type: 'bytes';
      operation: Operation;
      /** Bytes done so far: archive bytes written on export, read on import. */
      bytesDone: number;
      /** Total when known in advance (import of a file of known size), else undefined. */
      bytesTotal?: number;
    }
  | { type: 'warning'; operation: Operation; message: string }
  | { type: 'notice'; operation: Operation; message: string };

export type ProgressListener = (event: ProgressEvent) => void;
