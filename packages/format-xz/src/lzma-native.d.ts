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
  const lzma: {
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
