import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentManifest } from './content-manifest.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const section = (directory: string) => [{ kind: 'bento' as const, tag: 'svc:v1', directory }];
const filePaths = (manifest: Buffer) =>
  manifest
    .toString()
    .split('\n')
    .filter((line) => line.startsWith('file '))
    .map((line) => JSON.parse(line.slice(line.indexOf(' "') + 1)) as string);

describe('the content manifest of a directory', () => {
  it('lists names by their UTF-8 bytes, not by UTF-16 units, in ASCII-only and mixed directories alike', async () => {
    const item = await mkdtemp(path.join(tmpdir(), 'bentoport-manifest-order-'));
    // U+FB00 sorts after U+1F600 in UTF-16 (0xFB00 > 0xD83D) and before it in UTF-8 (EF … < F0 …).
    const mixed = ['z.txt', 'Z.txt', 'é.txt', '\u{1F600}.txt', '\uFB00.txt', 'a b.txt'];
    const ascii = ['b', 'B', 'a-c', '_x', '0'];
    await mkdir(path.join(item, 'mixed'));
    await mkdir(path.join(item, 'ascii'));
    for (const name of mixed) await writeFile(path.join(item, 'mixed', name), name);
    for (const name of ascii) await writeFile(path.join(item, 'ascii', name), name);

    const listed = filePaths(await contentManifest(section(item)));

    const byBytes = (names: string[]) => [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(listed).toEqual([...byBytes(ascii).map((name) => `ascii/${name}`), ...byBytes(mixed).map((name) => `mixed/${name}`)]);
    expect(listed.indexOf('mixed/\uFB00.txt')).toBeLessThan(listed.indexOf('mixed/\u{1F600}.txt'));
  });

  it("takes a file's line from the digest and mode a pipeline recorded while reading it, without a stat", async () => {
    const item = await mkdtemp(path.join(tmpdir(), 'bentoport-manifest-known-'));
    await writeFile(path.join(item, 'bento.yaml'), 'name: svc\n');
    await writeFile(path.join(item, 'service.py'), 'print(1)\n');
    await chmod(path.join(item, 'service.py'), 0o755);
    // What an export read moments ago: bento.yaml at mode 0600 (since changed on disk, say).
    const known = new Map([[path.join(item, 'bento.yaml'), { size: 10, sha256: sha256('name: svc\n'), mode: 0o600 }]]);

    const manifest = (await contentManifest(section(item), known)).toString();

    expect(manifest).toContain(`file 0600 10 ${sha256('name: svc\n')} "bento.yaml"`);
    // A file without a recorded mode is stat'ed and read as before.
    expect(manifest).toContain(`file 0755 9 ${sha256('print(1)\n')} "service.py"`);
  });
});
