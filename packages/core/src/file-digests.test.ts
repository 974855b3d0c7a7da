import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentManifest } from './content-manifest.js';
import { FileDigests } from './file-digests.js';
import { itemEntries } from './item-entries.js';
import { extractEntries } from './safe-extract.js';

/** A tree with small files and two files large enough to be streamed (and hashed on the thread). */
async function sampleTree(): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'bentoport-digests-'));
  const item = path.join(root, 'item');
  await mkdir(path.join(item, 'src', 'deep'), { recursive: true });
  await writeFile(path.join(item, 'bento.yaml'), 'name: svc\n');
  await writeFile(path.join(item, 'src', 'service.py'), 'print(1)\n');
  await writeFile(path.join(item, 'src', 'deep', 'empty.txt'), '');
  const weights = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let index = 0; index < weights.length; index += 4096) weights[index] = index % 251;
  await writeFile(path.join(item, 'weights-a.bin'), weights);
  weights[5] = 99;
  await writeFile(path.join(item, 'weights-b.bin'), weights);
  return item;
}

const section = (directory: string) => [{ kind: 'bento' as const, tag: 'svc:v1', directory }];

describe('file digests taken on the way', () => {
  it('give the same manifest as reading every file again, on export (inline) and on extraction (threaded)', async () => {
    const item = await sampleTree();
    const fromDisk = await contentManifest(section(item));

    const exported = new FileDigests();
    const entries = itemEntries({ trees: [{ directory: item, prefix: '' }], mtime: 1_700_000_000, keepSymlinks: true, fileDigests: exported });
    const staged = path.join(path.dirname(item), 'staged');
    await mkdir(staged);
    const extracted = new FileDigests({ threadedFromBytes: 1024 * 1024 });
    try {
      await extractEntries(entries, staged, { fileDigests: extracted });
      const exportKnown = await exported.known();
      const extractKnown = await extracted.known();
      expect(exportKnown.size).toBe(5);
      expect(extractKnown.size).toBe(5);
      expect(extractKnown.get(path.join(staged, 'weights-b.bin'))?.size).toBe(3 * 1024 * 1024 + 17);
      expect(await contentManifest(section(item), exportKnown)).toEqual(fromDisk);
      expect(await contentManifest(section(staged), extractKnown)).toEqual(fromDisk);
    } finally {
      exported.destroy();
      extracted.destroy();
    }
  });

  it('leave out a streamed file whose chunks were detached downstream before their hash (a transfer to a worker)', async () => {
    const item = await sampleTree();
    const digests = new FileDigests();
    for await (const entry of itemEntries({ trees: [{ directory: item, prefix: '' }], mtime: 1_700_000_000, keepSymlinks: true, fileDigests: digests })) {
      if (entry.path !== 'weights-a.bin' || entry.open === undefined) continue;
      for await (const chunk of entry.open() as AsyncIterable<Buffer>) structuredClone(chunk.buffer, { transfer: [chunk.buffer as ArrayBuffer] });
    }
    const known = await digests.known();
    expect(known.has(path.join(item, 'weights-a.bin'))).toBe(false);
    expect(await contentManifest(section(item), known)).toEqual(await contentManifest(section(item)));
  });

  it('are not trusted for a file whose size changed since', async () => {
    const item = await sampleTree();
    const stale = new Map([[path.join(item, 'bento.yaml'), { size: 3, sha256: '0'.repeat(64) }]]);
    const manifest = (await contentManifest(section(item), stale)).toString();
    expect(manifest).toContain(`file 0644 10 ${createHash('sha256').update('name: svc\n').digest('hex')} "bento.yaml"`);
  });

  it('hash one file after another on one thread, each from its own first byte', async () => {
    const digests = new FileDigests({ threadedFromBytes: 1 });
    try {
      const inputs = [Buffer.alloc(2 * 1024 * 1024 + 3, 1), Buffer.from('second'), Buffer.alloc(0)];
      for (const [index, input] of inputs.entries()) {
        const hashing = digests.begin(`/file-${index}`, input.length);
        for (let offset = 0; offset < input.length; offset += 700_000) await hashing.update(input.subarray(offset, offset + 700_000));
        hashing.end();
      }
      const known = await digests.known();
      for (const [index, input] of inputs.entries()) {
        expect(known.get(`/file-${index}`)).toEqual({ size: input.length, sha256: createHash('sha256').update(input).digest('hex') });
      }
    } finally {
      digests.destroy();
    }
  });
});
