import lzma from 'lzma-native';

/** The raw encoder's filter chain. */
export type WholeCoder = { rawEncoder: { filters: Array<{ id: number; options?: Record<string, number> }> } };

/**
 * The largest output buffer liblzma fills before handing it on. The binding holds each one twice
 * in native memory (its work buffer and a queued copy) before the copy JavaScript gets, so one
 * buffer for a whole 2 MiB piece would cost 6 MiB per piece in flight; 256 KiB keeps that under
 * 1 MiB at eight callbacks a piece at most.
 */
const MAX_OUTPUT_BUFFER = 256 * 1024;

/**
 * All of `input` encoded by liblzma on a thread-pool thread, in one call (and one to finish):
 * its output in buffers of up to 256 KiB, or of `expectedOutputBytes` when that is smaller.
 *
 * Why not `createStream`: its Transform cuts every input at each `YZ` it holds (the end of an
 * xz footer, met every 64 KiB in random bytes) and hands each cut to the thread pool separately,
 * and its output comes in 64 KiB buffers, each through a `setImmediate` and a stream push. A
 * piece is encoded whole here, so none of that is needed; the output of one call is queued in
 * native memory until the call ends, which for an encoder is the compressed size. (Decoding
 * keeps the Transform for that reason: see parallel-xz-decoder.ts.)
 */
export function codeWhole(coder: WholeCoder, input: Buffer, expectedOutputBytes: number): Promise<Buffer[]> {
  const stream = new lzma.Stream();
  stream.rawEncoder(coder.rawEncoder);
  stream.setBufsize(Math.min(MAX_OUTPUT_BUFFER, Math.max(4096, Math.ceil(expectedOutputBytes))));
  return new Promise<Buffer[]>((resolve, reject) => {
    const output: Buffer[] = [];
    let finishing = false;
    let ended = false;
    stream.bufferHandler = (buffer, processedChunks, error) => {
      if (buffer) output.push(buffer);
      else if (buffer === null) {
        ended = true;
        if (error) reject(error);
        else resolve(output);
      } else if (processedChunks !== undefined && !finishing && !ended) {
        // The input is taken: finishing makes liblzma flush the rest and end the data.
        finishing = true;
        stream.code(null, true);
      }
    };
    stream.code(input, true);
  });
}
