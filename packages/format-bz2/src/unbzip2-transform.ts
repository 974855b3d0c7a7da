import { Transform } from 'node:stream';
import unbzip2Stream from 'unbzip2-stream';

/**
 * unbzip2-stream (a pure-JavaScript streaming decoder that checks every block CRC and reads
 * concatenated streams) as a Node Transform. It is an old-style `through` stream, which is
 * neither async-iterable nor a Writable; this adapts it.
 */
export function createBunzip2(): Transform {
  const decoder = unbzip2Stream();
  let flushed: ((error?: Error | null) => void) | undefined;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        decoder.write(chunk);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      flushed = callback;
      try {
        decoder.end();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  decoder.on('data', (data: Buffer) => transform.push(data));
  decoder.on('error', (error: Error) => transform.destroy(error));
  decoder.on('end', () => flushed?.());
  return transform;
}
