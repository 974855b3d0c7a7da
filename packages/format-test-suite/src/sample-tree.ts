import { createHash } from 'node:crypto';
import type { ArchiveEntry, FormatCapabilities } from '@bentoport/spec';
import { chunkedBody } from './lazy-body.js';
import { seededBytes, seededText } from './seeded-bytes.js';

/** One entry of a sample tree, with its body in memory. */
export interface SampleEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink';
  mode: number;
  /** Whole seconds between 2001 and 2038: what every common container stores exactly. */
  mtime: number;
  linkTarget?: string;
  body?: Buffer;
}

/** An entry reduced to what a round trip must keep, with the SHA-256 of its body (files only). */
export type EntryRecord = Pick<ArchiveEntry, 'path' | 'type' | 'mode' | 'mtime' | 'size' | 'linkTarget'> & { sha256?: string };

const T = 1_700_000_000;
const dir = (path: string, mode = 0o755, mtime = T): SampleEntry => ({ path, type: 'directory', mode, mtime });
const file = (path: string, body: Buffer, mode = 0o644, mtime = T): SampleEntry => ({ path, type: 'file', mode, mtime, body });
const link = (type: 'symlink' | 'hardlink', path: string, linkTarget: string): SampleEntry => ({ path, type, mode: 0o777, mtime: T, linkTarget });

/** Files of every kind and mode, an empty file, directories, empty directories (also nested and last), varied mtimes. */
export function plainTree(): SampleEntry[] {
  return inWalkOrder([
    file('bento.yaml', seededText(300, 1), 0o644, 1_234_567_891),
    dir('empty-dir', 0o700, 1_000_000_000),
    dir('env'),
    dir('env/docker', 0o750),
    file('env/docker/entrypoint.sh', Buffer.from('#!/bin/sh\nexec "$@"\n'), 0o755),
    file('env/empty.txt', Buffer.alloc(0)),
    dir('models'),
    file('models/readonly.txt', seededText(1000, 2), 0o400, 1_500_000_000),
    file('models/weights.bin', seededBytes(32 * 1024, 3), 0o600),
    dir('src'),
    file('src/service.py', seededText(4096, 4)),
    dir('src/z-empty-dir'),
  ]);
}

const LONG_DIRECTORY = `long/${'d'.repeat(90)}`;
const LONG_SUBDIRECTORY = `${LONG_DIRECTORY}/${'e'.repeat(120)}`;

/** Non-ASCII names (2-, 3- and 4-byte UTF-8) and long paths: exactly 100 bytes, a 150-byte name, more than 300 bytes in all. */
export function pathTree(): SampleEntry[] {
  return inWalkOrder([
    dir('long'),
    file(`long/${'x'.repeat(95)}`, Buffer.from('exactly 100 bytes of path\n')),
    file(`long/${'g'.repeat(150)}.txt`, Buffer.from('a 154-byte name\n')),
    dir(LONG_DIRECTORY),
    dir(LONG_SUBDIRECTORY),
    file(`${LONG_SUBDIRECTORY}/${'f'.repeat(100)}.txt`, Buffer.from('a path of more than 300 bytes\n')),
    dir('unicode'),
    file(`unicode/${'é'.repeat(60)}`, Buffer.from('60 characters, 120 bytes\n')),
    file('unicode/spaces, (parens) & quotes \'".txt', Buffer.from('punctuation\n')),
    dir('unicode/ünïcødé'),
    file('unicode/ünïcødé/名前-🎉.txt', Buffer.from('ünïcødé content\n')),
    file('unicode/Ωmega.bin', seededBytes(3000, 5)),
  ]);
}

/** Relative, parent-relative and dangling symlinks, and a symlink to a directory. */
export function symlinkTree(): SampleEntry[] {
  return inWalkOrder([
    dir('bin'),
    file('bin/tool', Buffer.from('#!/bin/sh\necho tool\n'), 0o755),
    link('symlink', 'bin/tool-link', 'tool'),
    link('symlink', 'bin/up-link', '../data/file.txt'),
    dir('data'),
    file('data/file.txt', Buffer.from('linked to\n')),
    link('symlink', 'dangling', 'does/not/exist'),
    link('symlink', 'dir-link', 'data'),
  ]);
}

/** Hard links to a file, in the same and in another directory (each after the file it names). */
export function hardlinkTree(): SampleEntry[] {
  return inWalkOrder([
    dir('data'),
    file('data/a.bin', seededBytes(10_000, 6)),
    link('hardlink', 'data/b.bin', 'data/a.bin'),
    dir('other'),
    link('hardlink', 'other/c.bin', 'data/a.bin'),
  ]);
}

/** Every sample the format can store, in one tree (links only where the capabilities declare them). */
export function fullTree(capabilities: FormatCapabilities): SampleEntry[] {
  const prefixed = (prefix: string, entries: SampleEntry[]): SampleEntry[] => [
    dir(prefix),
    ...entries.map((entry) => ({
      ...entry,
      path: `${prefix}/${entry.path}`,
      ...(entry.type === 'hardlink' ? { linkTarget: `${prefix}/${entry.linkTarget}` } : {}),
    })),
  ];
  return inWalkOrder([
    ...prefixed('plain', plainTree()),
    ...prefixed('paths', pathTree()),
    ...(capabilities.symlinks ? prefixed('symlinks', symlinkTree()) : []),
    ...(capabilities.hardlinks ? prefixed('hardlinks', hardlinkTree()) : []),
  ]);
}

/** Depth first, names sorted, a directory before its children: the order core hands entries to an encoder. */
export function inWalkOrder(entries: SampleEntry[]): SampleEntry[] {
  const compare = (a: string[], b: string[]): number => {
    for (let index = 0; index < Math.min(a.length, b.length); index++) {
      const left = a[index] as string;
      const right = b[index] as string;
      if (left !== right) return left < right ? -1 : 1;
    }
    return a.length - b.length;
  };
  return [...entries].sort((a, b) => compare(a.path.split('/'), b.path.split('/')));
}

/** How a body is cut into chunks; the reproducibility check encodes the same tree both ways. */
export type Chunking = 'whole' | 'jagged';
const JAGGED = [1, 7, 4096, 13, 65_536, 100_000, 3];

/** The sample as the entry stream core would hand an encoder; each call starts afresh. */
export async function* entriesOf(sample: readonly SampleEntry[], chunking: Chunking = 'whole'): AsyncGenerator<ArchiveEntry> {
  for (const entry of sample) {
    const { body } = entry;
    const base = { path: entry.path, type: entry.type, mode: entry.mode, mtime: entry.mtime };
    if (entry.type === 'file' && body !== undefined) {
      yield { ...base, size: body.length, open: () => chunkedBody(body, chunking === 'whole' ? [64 * 1024] : JAGGED) };
    } else {
      yield { ...base, size: 0, ...(entry.linkTarget === undefined ? {} : { linkTarget: entry.linkTarget }) };
    }
  }
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** What decoding the sample must give back. */
export function recordsOf(sample: readonly SampleEntry[]): EntryRecord[] {
  return sample.map((entry) => {
    const record: EntryRecord = { path: entry.path, type: entry.type, mode: entry.mode, mtime: entry.mtime, size: entry.body?.length ?? 0 };
    if (entry.linkTarget !== undefined) record.linkTarget = entry.linkTarget;
    if (entry.body !== undefined) record.sha256 = sha256Hex(entry.body);
    return record;
  });
}
