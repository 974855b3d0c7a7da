import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createBentoport, type Bentoport, type BentoportOptions } from '@bentoport/core';
import { tarFormat } from '@bentoport/format-tar';
import { xzFormat } from '@bentoport/format-xz';
import type { Location, Transport } from '@bentoport/spec';
import { makeScratchDir, writeSampleBento } from '@bentoport/test-utils';
import { fsTransport } from '@bentoport/transport-fs';

/** A bentoport over `home` with the native formats (xz) and tar, and the given transports (else files). */
export function bentoportAt(home: string, extra: Partial<BentoportOptions> = {}): Bentoport {
  return createBentoport({ home, formats: [xzFormat(), tarFormat()], transports: [fsTransport()], ...extra });
}

/** A fresh scratch directory with `a/` and `b/` homes inside. */
export async function scratch(prefix: string): Promise<{ root: string; homeA: string; homeB: string }> {
  const root = await makeScratchDir(prefix);
  return { root, homeA: path.join(root, 'a'), homeB: path.join(root, 'b') };
}

/** The store the sync tests move: 10 bentos sharing 3 models (about 3 × 512 KiB of weights). */
export const SHARED_MODELS = [
  { name: 'shared-encoder', version: 'v1aaaaaaaaaaaaaa', weightsBytes: 512 * 1024 },
  { name: 'shared-ranker', version: 'v1bbbbbbbbbbbbbb', weightsBytes: 512 * 1024 },
  { name: 'shared-tokens', version: 'v1cccccccccccccc', weightsBytes: 512 * 1024 },
];

/** Write 10 bentos into `home`, each using two or three of the shared models. */
export async function writeReleaseStore(home: string): Promise<string[]> {
  const tags: string[] = [];
  for (let index = 0; index < 10; index++) {
    const models = index % 3 === 0 ? SHARED_MODELS : SHARED_MODELS.filter((_, modelIndex) => modelIndex !== index % 3);
    const sample = await writeSampleBento(home, {
      name: `svc${index % 5}`,
      version: `v${index < 5 ? 1 : 2}xxxxxxxxxxxxx${index % 10}`.slice(0, 16),
      seed: 100 + index,
      models,
      sourceFiles: 4,
      creationTime: `2025-0${index < 5 ? 1 : 2}-02T03:04:05.000000+00:00`,
    });
    tags.push(sample.bentoTag);
  }
  return tags;
}

/** Bytes a naive per-bento export (`bentoport export` each tag, models embedded) writes. */
export async function naiveExportBytes(bentoport: Bentoport, tags: string[], directory: string): Promise<number> {
  let total = 0;
  for (const [index, tag] of tags.entries()) total += (await bentoport.exportBento(tag, path.join(directory, `naive-${index}.bento`))).size;
  return total;
}

/** Every file under a directory with its size. */
export async function treeBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** The index a remote store folder holds, parsed. */
export async function readFolderIndex(directory: string): Promise<{ generation: number; items: Array<{ kind: string; name: string; version: string; sha256: string; file: string; signed: boolean }> }> {
  return JSON.parse(await readFile(path.join(directory, 'bentoport-index.json'), 'utf8'));
}

/** A transport that counts what it reads and writes, around a real one. */
export function countingTransport(inner: Transport): Transport & { bytesRead: number; bytesWritten: number; reset(): void } {
  const counter = {
    ...inner,
    bytesRead: 0,
    bytesWritten: 0,
    reset() {
      counter.bytesRead = 0;
      counter.bytesWritten = 0;
    },
    async read(location: Location, options?: Parameters<Transport['read']>[1]) {
      const stream = await inner.read(location, options);
      stream.on('data', (chunk: Buffer) => (counter.bytesRead += chunk.length));
      return stream;
    },
    async write(location: Location, options?: Parameters<Transport['write']>[1]) {
      const writer = await inner.write(location, options);
      const original = writer.stream.write.bind(writer.stream);
      writer.stream.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
        counter.bytesWritten += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof writer.stream.write;
      return writer;
    },
  };
  return counter;
}
