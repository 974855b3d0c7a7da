/**
 * Shared by the tests only (not exported from the package): entry builders, archive sources
 * over buffers and files, and a Python runner for interoperability checks.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ArchiveEntry, ArchiveSource, Format } from '@bentoport/spec';

export interface EntrySpec {
  path: string;
  type?: ArchiveEntry['type'];
  mode?: number;
  mtime?: number;
  content?: Buffer | string;
  linkTarget?: string;
}

export const FIXED_MTIME = 1_700_000_000.25;

/** Entries as core would send them, bodies served from memory. */
export async function* entriesFrom(specs: Iterable<EntrySpec>): AsyncGenerator<ArchiveEntry> {
  for (const spec of specs) {
    const type = spec.type ?? (spec.content === undefined ? 'directory' : 'file');
    const content = spec.content === undefined ? Buffer.alloc(0) : Buffer.from(spec.content);
    yield {
      path: spec.path,
      type,
      mode: spec.mode ?? (type === 'directory' ? 0o755 : 0o644),
      mtime: spec.mtime ?? FIXED_MTIME,
      size: type === 'file' ? content.length : 0,
      ...(spec.linkTarget === undefined ? {} : { linkTarget: spec.linkTarget }),
      ...(type === 'file' ? { open: () => Readable.from([content], { objectMode: false }) } : {}),
    };
  }
}

export async function collect(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(parts);
}

/** A random-access source over bytes in memory; ranged reads arrive in small chunks to exercise reassembly. */
export function bufferSource(bytes: Buffer, chunkSize = 7919): ArchiveSource {
  const chunksOf = (start: number, end: number): Buffer[] => {
    const parts: Buffer[] = [];
    for (let position = start; position < end; position += chunkSize) parts.push(bytes.subarray(position, Math.min(end, position + chunkSize)));
    return parts;
  };
  return {
    size: bytes.length,
    stream: () => Readable.from(chunksOf(0, bytes.length), { objectMode: false }),
    readRange: (start, end) => Readable.from(chunksOf(start, end), { objectMode: false }),
  };
}

/** A random-access source over a file, as a file-system transport would offer it. */
export function fileSource(path: string): ArchiveSource & { ranges: Array<[number, number]> } {
  const ranges: Array<[number, number]> = [];
  return {
    ranges,
    size: statSync(path).size,
    stream: () => createReadStream(path),
    readRange: (start, end) => {
      ranges.push([start, end]);
      return createReadStream(path, { start, end: end - 1, highWaterMark: 1024 * 1024 });
    },
  };
}

export interface DecodedEntry {
  path: string;
  type: ArchiveEntry['type'];
  mode: number;
  mtime: number;
  size: number;
  linkTarget?: string;
  content?: Buffer;
}

/** Decodes a whole archive, reading every body. */
export async function decodeAll(format: Format, source: ArchiveSource): Promise<DecodedEntry[]> {
  const result: DecodedEntry[] = [];
  for await (const entry of format.decode(source, { format: 'zip' })) {
    const { open, readWhole, ...rest } = entry;
    // A small body offered whole is read that way, as safe extraction reads it.
    if (readWhole !== undefined) result.push({ ...rest, content: await readWhole() });
    else result.push(open === undefined ? rest : { ...rest, content: await collect(open()) });
  }
  return result;
}

export const hasPython = spawnSync('python3', ['-c', 'import zipfile'], { stdio: 'ignore' }).status === 0;

/** Runs a Python script with arguments; returns stdout, throws with stderr on failure. */
export function runPython(script: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeout?: number; input?: string } = {}): string {
  const result = spawnSync('python3', ['-c', script, ...args], {
    encoding: 'utf8',
    env: options.env ?? process.env,
    timeout: options.timeout ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  if (result.status !== 0) throw new Error(`python3 failed (${String(result.status)}): ${result.stderr}`);
  return result.stdout;
}
