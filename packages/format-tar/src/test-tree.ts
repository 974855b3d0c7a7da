/**
 * Test utilities (not part of the package's entry point): seeded sample trees, a directory
 * walker that yields ArchiveEntry like core's store walker will, and collectors that reduce
 * archives and trees to comparable records (hashes, never filecmp: tar keeps mtimes).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, lutimes, mkdir, mkdtemp, readdir, readlink, rm, symlink, utimes, writeFile, link, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ArchiveEntry } from '@bentoport/spec';

/** A fresh temporary directory, removed by the returned cleanup. */
export async function temporaryDirectory(prefix = 'format-tar-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A small deterministic pseudo-random generator (mulberry32): same seed, same bytes. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` bytes of float32 values like trained weights: noisy, mostly small, poorly compressible. */
export function weightLikeBytes(size: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const buffer = Buffer.alloc(size);
  const floats = new Float32Array(buffer.buffer, buffer.byteOffset, Math.floor(size / 4));
  for (let index = 0; index < floats.length; index++) floats[index] = (random() - 0.5) * 0.2 * (random() < 0.01 ? 10 : 1);
  return buffer;
}

/** Compressible text: words from a small vocabulary, seeded. */
export function textBytes(size: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const words = ['bento', 'model', 'service', 'runner', 'api', 'yaml', 'python', 'tensor', 'float', 'batch', 'input', 'output', '\n'];
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const word = `${words[Math.floor(random() * words.length)] ?? ''} `;
    parts.push(word);
    length += word.length;
  }
  return Buffer.from(parts.join('').slice(0, size));
}

export const LONG_NAME = `${'deep-directory-name/'.repeat(7)}${'f'.repeat(60)}.txt`; // > 200 bytes
export const VERY_LONG_NAME = `${'x'.repeat(120)}/${'y'.repeat(120)}/${'z'.repeat(40)}.bin`; // > 255 bytes

/**
 * A tree with every kind of member a bento can hold: modes 0644/0755, empty file, empty dir,
 * symlinks (relative, dangling), a hard link, long and non-ASCII names, fractional, pre-1970
 * and far-future mtimes.
 */
export async function writeSampleTree(root: string): Promise<void> {
  await mkdir(join(root, 'src', 'pkg'), { recursive: true });
  await mkdir(join(root, 'empty-dir'));
  await mkdir(join(root, 'models', 'iris', 'v1'), { recursive: true });
  await writeFile(join(root, 'bento.yaml'), 'service: svc:Svc\nname: svc\nversion: v1\n');
  await writeFile(join(root, 'README.md'), textBytes(5000, 1));
  await writeFile(join(root, 'src', 'service.py'), 'import bentoml\n');
  await writeFile(join(root, 'src', 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'src', 'run.sh'), 0o755);
  await writeFile(join(root, 'src', 'empty.txt'), '');
  await writeFile(join(root, 'src', 'pkg', 'ünïcødé-名前.py'), 'x = 1\n');
  await writeFile(join(root, 'models', 'iris', 'v1', 'saved_model.bin'), weightLikeBytes(300_000, 2));
  await writeFile(join(root, 'models', 'iris', 'latest'), 'v1');
  await link(join(root, 'models', 'iris', 'v1', 'saved_model.bin'), join(root, 'models', 'iris', 'v1', 'hardlinked.bin'));
  await symlink('service.py', join(root, 'src', 'link-to-service'));
  await symlink('../does/not/exist', join(root, 'src', 'dangling'));
  for (const name of [LONG_NAME, VERY_LONG_NAME]) {
    await mkdir(join(root, 'src', name, '..'), { recursive: true });
    await writeFile(join(root, 'src', name), `content of ${name}\n`);
  }
  // Pin every other mtime to an exactly representable value: "now" has nanoseconds that a
  // float of seconds cannot hold, so Python's and Node's readings of it differ in the last µs.
  const entries = (await readdir(root, { recursive: true })).map(String).sort().reverse();
  for (const relative of entries) await lutimes(join(root, relative), 1_750_000_000.5, 1_750_000_000.5);
  await lutimes(root, 1_750_000_000.5, 1_750_000_000.5);
  await utimes(join(root, 'README.md'), 1_700_000_000.25, 1_700_000_000.25);
  // A Date, because Node takes a negative number of seconds to mean "now".
  const in1969 = new Date(-86_400 * 365 * 1000);
  await utimes(join(root, 'src', 'service.py'), in1969, in1969);
  await utimes(join(root, 'bento.yaml'), 9_000_000_000, 9_000_000_000); // beyond 8^11 - 1
}

/**
 * The entries of a directory as core hands them to an encoder: depth-first, children sorted,
 * a directory before its children; a second path to the same inode becomes a hard link.
 */
export async function* entriesFromDirectory(root: string): AsyncGenerator<ArchiveEntry> {
  const seenInodes = new Map<string, string>();
  async function* walk(relative: string): AsyncGenerator<ArchiveEntry> {
    const names = (await readdir(join(root, relative))).sort();
    for (const name of names) {
      const path = relative === '' ? name : `${relative}/${name}`;
      const absolute = join(root, path);
      const stats = await lstat(absolute);
      const common = { path, mode: stats.mode & 0o7777, mtime: stats.mtimeMs / 1000, size: 0 };
      if (stats.isDirectory()) {
        yield { ...common, type: 'directory' };
        yield* walk(path);
      } else if (stats.isSymbolicLink()) {
        yield { ...common, type: 'symlink', linkTarget: await readlink(absolute) };
      } else if (stats.isFile()) {
        const inode = `${stats.dev}:${stats.ino}`;
        const first = seenInodes.get(inode);
        if (stats.nlink > 1 && first !== undefined) {
          yield { ...common, type: 'hardlink', linkTarget: first };
          continue;
        }
        seenInodes.set(inode, path);
        yield { ...common, type: 'file', size: stats.size, open: () => createReadStream(absolute) };
      }
    }
  }
  yield* walk('');
}

export interface EntryRecord {
  path: string;
  type: ArchiveEntry['type'];
  mode: number;
  mtime: number;
  size: number;
  linkTarget?: string;
  sha256?: string;
}

/** Reads every entry and its body into comparable records. */
export async function collectEntries(entries: AsyncIterable<ArchiveEntry>): Promise<EntryRecord[]> {
  const records: EntryRecord[] = [];
  for await (const entry of entries) {
    const record: EntryRecord = { path: entry.path, type: entry.type, mode: entry.mode, mtime: entry.mtime, size: entry.size };
    if (entry.linkTarget !== undefined) record.linkTarget = entry.linkTarget;
    if (entry.open !== undefined) record.sha256 = await sha256Of(entry.open());
    records.push(record);
  }
  return records;
}

export async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface TreeRecord {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  sha256?: string;
  linkTarget?: string;
}

/** A directory tree as path → type, mode, content hash or link target. */
export async function snapshotTree(root: string): Promise<Record<string, TreeRecord>> {
  const snapshot: Record<string, TreeRecord> = {};
  async function walk(relative: string): Promise<void> {
    for (const name of (await readdir(join(root, relative))).sort()) {
      const path = relative === '' ? name : `${relative}/${name}`;
      const stats = await lstat(join(root, path));
      if (stats.isDirectory()) {
        snapshot[path] = { type: 'directory', mode: stats.mode & 0o7777 };
        await walk(path);
      } else if (stats.isSymbolicLink()) {
        snapshot[path] = { type: 'symlink', mode: 0, linkTarget: await readlink(join(root, path)) };
      } else {
        snapshot[path] = { type: 'file', mode: stats.mode & 0o7777, sha256: await sha256Of(createReadStream(join(root, path))) };
      }
    }
  }
  await walk('');
  return snapshot;
}

/** Runs `python3 -c script args…`, failing the test with its stderr on a non-zero exit. */
export function python(script: string, args: string[] = [], input?: Uint8Array): string {
  const result = spawnSync('python3', ['-c', script, ...args], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`python3 failed (${String(result.status)}): ${result.stderr}`);
  return result.stdout;
}

/** Runs `python3 -c script` and returns its raw standard output (for archives it writes). */
export function pythonBytes(script: string): Buffer {
  const result = spawnSync('python3', ['-c', script], { maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`python3 failed (${String(result.status)}): ${result.stderr.toString()}`);
  return result.stdout;
}

/** Runs a command, returning its exit status, stdout and stderr. */
export function run(command: string, args: string[], input?: Uint8Array): { status: number | null; stdout: Buffer; stderr: string } {
  const result = spawnSync(command, args, { input, maxBuffer: 1024 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.toString() };
}

/** The whole output of a stream, for small archives in tests. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** An archive source over bytes in memory. */
export function bufferSource(bytes: Uint8Array, chunkSize = 7919): { stream: () => Readable; size: number } {
  return {
    size: bytes.length,
    // Odd-sized chunks so that headers and bodies straddle chunk boundaries.
    stream: () =>
      Readable.from(
        (function* () {
          for (let start = 0; start < bytes.length; start += chunkSize) yield Buffer.from(bytes.subarray(start, start + chunkSize));
        })(),
      ),
  };
}

/** Entries from a literal list, bodies given as buffers. */
export async function* entriesFromList(list: Array<Omit<ArchiveEntry, 'open' | 'size'> & { body?: Buffer }>): AsyncGenerator<ArchiveEntry> {
  for (const { body, ...entry } of list) {
    yield body === undefined ? { ...entry, size: 0 } : { ...entry, size: body.length, open: () => Readable.from([body]) };
  }
}
