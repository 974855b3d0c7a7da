// The part of lzma-native (which ships no types of its own) that this package uses.
declare module 'lzma-native' {
  import type { Duplex } from 'node:stream';

  interface LzmaOptions {
    preset?: number;
    dictSize?: number;
    lc?: number;
    lp?: number;
    pb?: number;
    mode?: number;
    niceLen?: number;
    mf?: number;
    depth?: number;
  }
  interface StreamOptions {
    filters?: Array<{ id: number; options?: LzmaOptions }>;
    memlimit?: number;
    flags?: number;
    synchronous?: boolean;
  }
  /**
   * The native coder under `createStream`'s Transform. `code(input, true)` queues `input` and
   * codes on a thread-pool thread; `bufferHandler` then gets, on the main thread, each output
   * buffer (`bufsize` bytes at most), then `(null, undefined, error | null)` at the end of the
   * data, or `(undefined, count)` when the input queued so far has been taken without ending it.
   * `code(null, true)` finishes (an encoder flushes).
   */
  interface NativeStream {
    rawEncoder(options: StreamOptions): void;
    setBufsize(size: number): number;
    code(input: Buffer | null, async: boolean): void;
    bufferHandler: (output: Buffer | null | undefined, processedChunks: number | undefined, error: Error | null | undefined) => void;
  }
  const lzma: {
    Stream: new () => NativeStream;
    createStream(coder: 'rawEncoder' | 'streamDecoder', options: StreamOptions): Duplex;
    FILTER_LZMA2: number;
    CONCATENATED: number;
    MODE_NORMAL: number;
    MODE_FAST: number;
    MF_HC3: number;
    MF_BT4: number;
  };
  export default lzma;
}
