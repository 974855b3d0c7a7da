import lzma from 'lzma-native';

/** How one whole input is coded: an encoder's filters or a stream decoder's memory limit. */
export type WholeCoder = { rawEncoder: { filters: Array<{ id: number; options?: Record<string, number> }> } } | { streamDecoder: { memlimit: number } };

/**
 * All of `input` coded by liblzma on a thread-pool thread, in one call: its output in buffers of
 * up to `outputBytes` (one, when the caller knows the output's size).
 *
 * Why not `createStream`: its Transform cuts every input at each `YZ` it holds (the end of an
 * xz footer, met every 64 KiB in compressed or random bytes) and hands each cut to the thread
 * pool separately, and its output comes in 64 KiB buffers, each through a `setImmediate` and a
 * stream push: on a `.bento` of weights that machinery cost the main thread a third of the
 * decode time. A block is coded whole here, so none of it is needed.
 */
export function codeWhole(coder: WholeCoder, input: Buffer, outputBytes: number): Promise<Buffer[]> {
  const stream = new lzma.Stream();
  if ('rawEncoder' in coder) stream.rawEncoder(coder.rawEncoder);
  else stream.streamDecoder(coder.streamDecoder);
  stream.setBufsize(Math.max(4096, outputBytes));
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
