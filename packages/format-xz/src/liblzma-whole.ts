import lzma from 'lzma-native';

/** How one whole input is coded: an encoder's filters or a stream decoder's memory limit. */
export type WholeCoder = { rawEncoder: { filters: Array<{ id: number; options?: Record<string, number> }> } } | { streamDecoder: { memlimit: number } };

/**
 * The largest output buffer liblzma fills before handing it on. The binding holds each one twice
 * in native memory (its work buffer and a queued copy) before the copy JavaScript gets, so a
 * whole 2 MiB block in one buffer cost 6 MiB per block in flight; 256 KiB keeps that under 1 MiB
 * at eight callbacks a block.
 */
const MAX_OUTPUT_BUFFER = 256 * 1024;

/**
 * All of `input` coded by liblzma on a thread-pool thread, in one call: its output in buffers of
 * up to 256 KiB, or of `expectedOutputBytes` when that is smaller (one buffer then).
 *
 * Why not `createStream`: its Transform cuts every input at each `YZ` it holds (the end of an
 * xz footer, met every 64 KiB in compressed or random bytes) and hands each cut to the thread
 * pool separately, and its output comes in 64 KiB buffers, each through a `setImmediate` and a
 * stream push: on a `.bento` of weights that machinery cost the main thread a third of the
 * decode time. A block is coded whole here, so none of it is needed.
 */
export function codeWhole(coder: WholeCoder, input: Buffer, expectedOutputBytes: number): Promise<Buffer[]> {
  const stream = new lzma.Stream();
  if ('rawEncoder' in coder) stream.rawEncoder(coder.rawEncoder);
  else stream.streamDecoder(coder.streamDecoder);
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
        // The input is taken and the data has not ended: finishing makes liblzma flush an
        // encoder, or name what a decoder's input lacks.
        finishing = true;
        stream.code(null, true);
      }
    };
    stream.code(input, true);
  });
}
