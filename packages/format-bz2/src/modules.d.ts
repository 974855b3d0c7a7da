// The part of unbzip2-stream (whose types live in a separate, older package) that this package uses.
declare module 'unbzip2-stream' {
  import type { EventEmitter } from 'node:events';

  interface ThroughStream extends EventEmitter {
    write(chunk: Buffer): boolean;
    end(): void;
  }
  export default function unbzip2Stream(): ThroughStream;
}
