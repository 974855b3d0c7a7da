import { setImmediate as nextMacrotask, setTimeout as sleep } from 'node:timers/promises';
import type { Readable, Writable } from 'node:stream';
import type { Location, Transport, TransportWriter } from '@bentoport/spec';

/** Read a stream to its end. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

/** Resolve on 'drain'; reject when the stream errors or closes first, so a broken writer cannot hang a check. */
export function drained(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the writer stream closed before it drained'));
    };
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/** Resolve once the writable side has finished; reject if it errors or closes first. */
function finishedWriting(stream: Writable): Promise<void> {
  if (stream.writableFinished) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      stream.off('finish', onFinish);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onFinish = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      if (stream.writableFinished) resolve();
      else reject(new Error('the writer stream closed before it finished'));
    };
    stream.on('finish', onFinish);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/** Write bytes in chunks, waiting for 'drain' whenever the stream asks, without ending it. */
export async function writeChunks(stream: Writable, data: Uint8Array, chunkSize = 64 * 1024): Promise<void> {
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    if (!stream.write(data.subarray(offset, offset + chunkSize))) await drained(stream);
  }
}

/** Write all bytes, end the stream and wait until it has finished (but do not commit). */
export async function writeAndFinish(stream: Writable, data: Uint8Array, chunkSize?: number): Promise<void> {
  await writeChunks(stream, data, chunkSize);
  stream.end();
  await finishedWriting(stream);
}

/**
 * Start a write and swallow the stream's 'error' events: a writer may destroy its stream with an
 * error when it is aborted, and the checks look at the promises instead.
 */
export async function startWrite(
  transport: Transport,
  location: Location,
  options?: Parameters<Transport['write']>[1],
): Promise<TransportWriter> {
  const writer = await transport.write(location, options);
  writer.stream.on('error', () => {});
  return writer;
}

/** Write, finish and commit one object; abort on any failure so a failing check leaves no trace. */
export async function putObject(transport: Transport, location: Location, data: Uint8Array): Promise<void> {
  const writer = await startWrite(transport, location, { sizeHint: data.length });
  try {
    await writeAndFinish(writer.stream, data);
    await writer.commit();
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
}

/** Read a whole object (or the range asked for). */
export async function getObject(
  transport: Transport,
  location: Location,
  options?: Parameters<Transport['read']>[1],
): Promise<Buffer> {
  return readAll(await transport.read(location, options));
}

/**
 * Let the event loop run for about `milliseconds`, alternating macrotasks and short timers, so
 * that a stream (and the I/O behind it: thread-pool reads, sockets) gets every chance to fill up.
 */
export async function letEventLoopRun(milliseconds: number): Promise<void> {
  const until = Date.now() + milliseconds;
  while (Date.now() < until) {
    await nextMacrotask();
    await sleep(5);
  }
}

/** Wait for a stream to end in an error or in 'end'/'close'; resolve with the error, if any. */
export function outcomeOf(stream: Readable, timeoutMilliseconds: number): Promise<{ error?: unknown; ended: boolean; timedOut: boolean }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish({ ended: false, timedOut: true }), timeoutMilliseconds);
    let done = false;
    const finish = (outcome: { error?: unknown; ended: boolean; timedOut: boolean }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.off('error', onError);
      stream.off('end', onEnd);
      stream.off('close', onClose);
      resolve(outcome);
    };
    const onError = (error: unknown): void => finish({ error, ended: false, timedOut: false });
    const onEnd = (): void => finish({ ended: true, timedOut: false });
    const onClose = (): void => {
      // 'error' is emitted before 'close'; a close without either means a silent destroy.
      setImmediate(() => finish({ ended: false, timedOut: false }));
    };
    stream.on('error', onError);
    stream.on('end', onEnd);
    stream.on('close', onClose);
  });
}
