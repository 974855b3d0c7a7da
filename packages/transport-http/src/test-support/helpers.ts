import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Location, Transport } from '@bentoport/core';

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Write, finish and commit one object. */
export async function putBytes(transport: Transport, location: Location, data: Buffer, sizeHint?: number): Promise<void> {
  const writer = await transport.write(location, sizeHint === undefined ? {} : { sizeHint });
  writer.stream.end(data);
  await finished(writer.stream);
  await writer.commit();
}

/**
 * Log lines written since `offset` (a byte offset from {@link logSize}) that contain `including`.
 * The servers are shared by every test file of the package, and files run side by side: a test
 * names its own unique path here, or it reads its neighbours' requests as its own.
 */
export function logSince(file: string, offset: number, including: string): string[] {
  return readFileSync(file)
    .subarray(offset)
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '' && line.includes(including));
}

/**
 * Like {@link logSince}, once at least `count` such lines are there: nginx writes a request's log
 * line after sending its response, so the client can see the answer before the line exists.
 * Waits at most 2 s (polling every 20 ms), then returns what is there.
 */
export async function logLinesSince(file: string, offset: number, count: number, including: string): Promise<string[]> {
  const deadline = Date.now() + 2000;
  let lines = logSince(file, offset, including);
  while (lines.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    lines = logSince(file, offset, including);
  }
  return lines;
}

export function logSize(file: string): number {
  return readFileSync(file).length;
}

/** Deterministic bytes that differ by seed. */
export function patternBytes(size: number, seed: number): Buffer {
  const data = Buffer.allocUnsafe(size);
  let state = seed * 2654435761 + 1;
  for (let index = 0; index < size; index++) {
    state = (state * 1103515245 + 12345) >>> 0;
    data[index] = state >>> 24;
  }
  return data;
}
