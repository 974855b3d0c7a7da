import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ArchiveEntry } from '@bentoport/spec';
import { assert } from 'vitest';

/** An entry reduced to what a push and pull must keep, with the SHA-256 of its body (files only). */
export type EntryRecord = Pick<ArchiveEntry, 'path' | 'type' | 'mode' | 'mtime' | 'size' | 'linkTarget'> & { sha256?: string };

async function sha256Of(body: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}

/** Every entry with its body hashed (an empty file may come without `open`). */
export async function recordsOf(entries: AsyncIterable<ArchiveEntry>): Promise<EntryRecord[]> {
  const records: EntryRecord[] = [];
  for await (const entry of entries) {
    const record: EntryRecord = { path: entry.path, type: entry.type, mode: entry.mode, mtime: entry.mtime, size: entry.size };
    if (entry.linkTarget !== undefined) record.linkTarget = entry.linkTarget;
    if (entry.type === 'file') record.sha256 = entry.open === undefined ? createHash('sha256').digest('hex') : await sha256Of(entry.open());
    records.push(record);
  }
  return records;
}

/** The first way `pulled` differs from `pushed`, as a sentence; undefined when it keeps everything. */
function difference(pulled: EntryRecord, pushed: EntryRecord): string | undefined {
  const where = `${pushed.type} ${pushed.path}`;
  if (pulled.type !== pushed.type) return `${where} came back as a ${pulled.type}`;
  // Link permission bits mean nothing on Linux; containers differ in keeping them.
  if (pushed.type !== 'symlink' && pulled.mode !== pushed.mode) return `${where}: mode 0o${pulled.mode.toString(8)}, pushed 0o${pushed.mode.toString(8)}`;
  if (pulled.mtime !== pushed.mtime) return `${where}: mtime ${pulled.mtime}, pushed ${pushed.mtime}`;
  if (pulled.size !== pushed.size) return `${where}: size ${pulled.size}, pushed ${pushed.size}`;
  if (pulled.linkTarget !== pushed.linkTarget) return `${where}: link target ${String(pulled.linkTarget)}, pushed ${String(pushed.linkTarget)}`;
  if (pulled.sha256 !== pushed.sha256) return `${where}: the body differs`;
  return undefined;
}

/**
 * Require a pull to give back exactly the pushed entries: the same paths (in any order: a registry
 * may store them its own way), types, modes, mtimes, sizes, link targets and bodies.
 */
export function expectSameItem(pulled: EntryRecord[], pushed: EntryRecord[], what: string): void {
  const byPath = new Map(pulled.map((record) => [record.path, record]));
  const lost = pushed.filter((record) => !byPath.has(record.path)).map((record) => record.path);
  const added = pulled.filter((record) => !pushed.some((candidate) => candidate.path === record.path)).map((record) => record.path);
  if (lost.length > 0 || added.length > 0) {
    assert.fail(`${what}: ${[lost.length > 0 ? `lost ${lost.join(', ')}` : '', added.length > 0 ? `added ${added.join(', ')}` : ''].filter(Boolean).join('; ')}`);
  }
  if (pulled.length !== byPath.size) assert.fail(`${what}: some paths came back more than once`);
  for (const record of pushed) {
    const problem = difference(byPath.get(record.path) as EntryRecord, record);
    if (problem !== undefined) assert.fail(`${what}: ${problem}`);
  }
}
