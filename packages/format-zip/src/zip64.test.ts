import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { ArchiveEntry, CompressionPolicy } from '@bentoport/spec';
import { zipFormat } from './index.js';
import { bufferSource, collect, decodeAll, fileSource, hasPython, runPython } from './test-helpers.js';

const hasUnzip = spawnSync('unzip', ['-v'], { stdio: 'ignore' }).status === 0;
const workDirectory = mkdtempSync(join(tmpdir(), 'format-zip-zip64-'));
afterAll(() => rmSync(workDirectory, { recursive: true, force: true }));

/**
 * Just past what a classic zip can say (sizes and offsets are 32-bit, 0xFFFFFFFF means "see the
 * Zip64 field"): 4 GiB + 1 MiB needs every Zip64 record a larger file does, and each byte of it is
 * CRC-checked three times (our encoder, Python, our reader), so nothing bigger is worth its time.
 */
const HUGE_SIZE = 4 * 1024 ** 3 + 1024 * 1024;
const MTIME = 1_700_000_000;

/** A bento-like tree whose weights file is a sparse file just past 4 GiB, followed by an entry whose local header lies past 4 GiB. */
async function* hugeEntries(sparsePath: string): AsyncGenerator<ArchiveEntry> {
  yield { path: 'models', type: 'directory', mode: 0o755, mtime: MTIME, size: 0 };
  yield { path: 'models/huge.bin', type: 'file', mode: 0o644, mtime: MTIME, size: HUGE_SIZE, open: () => createReadStream(sparsePath, { highWaterMark: 1024 * 1024 }) };
  yield { path: 'tail.txt', type: 'file', mode: 0o644, mtime: MTIME, size: 5, open: () => Readable.from([Buffer.from('tail\n')], { objectMode: false }) };
}

/** Reads every member through (zipfile checks each CRC-32 as the last byte passes) and reports sizes. */
const READ_THROUGH_WITH_PYTHON = String.raw`
import json, sys, zipfile
result = {}
with zipfile.ZipFile(sys.argv[1]) as zf:
    for info in zf.infolist():
        total = 0
        with zf.open(info) as member:
            while True:
                block = member.read(8 * 1024 * 1024)
                if not block:
                    break
                total += len(block)
        result[info.filename] = {'size': info.file_size, 'read': total, 'offset': info.header_offset, 'crc': info.CRC}
print(json.dumps(result))
`;

describe('Zip64', () => {
  for (const compression of ['store', 'auto'] as CompressionPolicy[]) {
    it(
      `writes and reads a 4 GiB + 1 MiB entry (${compression}) that Python zipfile reads too`,
      async () => {
        const sparsePath = join(workDirectory, 'sparse.bin');
        writeFileSync(sparsePath, '');
        truncateSync(sparsePath, HUGE_SIZE);
        const archivePath = join(workDirectory, `huge-${compression}.zip`);
        try {
          await pipeline(zipFormat().encode(hugeEntries(sparsePath), { format: 'zip', compression }), createWriteStream(archivePath));

          if (hasPython) {
            const report = JSON.parse(runPython(READ_THROUGH_WITH_PYTHON, [archivePath], { timeout: 300_000 })) as Record<string, { size: number; read: number; offset: number }>;
            expect(report['models/huge.bin']).toMatchObject({ size: HUGE_SIZE, read: HUGE_SIZE });
            expect(report['tail.txt']).toMatchObject({ size: 5, read: 5 });
            if (compression === 'store') expect(report['tail.txt']?.offset).toBeGreaterThan(HUGE_SIZE);
          }

          // Our reader checks size and CRC-32 while streaming.
          const seen: Array<[string, number, number]> = [];
          for await (const entry of zipFormat().decode(fileSource(archivePath), { format: 'zip' })) {
            let total = 0;
            if (entry.open) for await (const chunk of entry.open()) total += (chunk as Buffer).length;
            seen.push([entry.path, entry.size, total]);
          }
          expect(seen).toEqual([
            ['models', 0, 0],
            ['models/huge.bin', HUGE_SIZE, HUGE_SIZE],
            ['tail.txt', 5, 5],
          ]);
        } finally {
          rmSync(archivePath, { force: true });
          rmSync(sparsePath, { force: true });
        }
      },
      600_000,
    );
  }

  it(
    'writes more than 65,535 entries with a Zip64 end record that Python and our reader count',
    async () => {
      const count = 70_000;
      async function* manyEntries(): AsyncGenerator<ArchiveEntry> {
        for (let index = 0; index < count; index += 1) {
          const body = Buffer.from(`file ${index}\n`);
          const path = `files/${String(index).padStart(5, '0')}.txt`;
          yield { path, type: 'file', mode: 0o644, mtime: MTIME, size: body.length, open: () => Readable.from([body], { objectMode: false }) };
        }
      }
      const archive = await collect(zipFormat().encode(manyEntries(), { format: 'zip' }));

      // The classic end record says 0xFFFF; the Zip64 end record (found through the locator) holds the count.
      const end = archive.length - 22;
      expect(archive.readUInt32LE(end)).toBe(0x06054b50);
      expect(archive.readUInt16LE(end + 10)).toBe(0xffff);
      expect(archive.readUInt32LE(end - 20)).toBe(0x07064b50);
      const zip64End = Number(archive.readBigUInt64LE(end - 20 + 8));
      expect(archive.readUInt32LE(zip64End)).toBe(0x06064b50);
      expect(Number(archive.readBigUInt64LE(zip64End + 32))).toBe(count);

      if (hasPython) {
        const archivePath = join(workDirectory, 'many.zip');
        writeFileSync(archivePath, archive);
        const output = runPython(
          'import sys, zipfile\nzf = zipfile.ZipFile(sys.argv[1])\nprint(len(zf.namelist()), zf.testzip(), zf.read("files/69999.txt").decode().strip())',
          [archivePath],
        );
        expect(output.trim()).toBe(`${count} None file 69999`);
        if (hasUnzip) {
          const unzip = spawnSync('unzip', ['-tq', archivePath], { encoding: 'utf8' });
          expect(unzip.stdout).toContain('No errors detected');
          expect(unzip.status).toBe(0);
        }
        rmSync(archivePath);
      }

      const decoded = await decodeAll(zipFormat(), bufferSource(archive, 1024 * 1024));
      expect(decoded).toHaveLength(count);
      expect(decoded[12_345]).toMatchObject({ path: 'files/12345.txt', size: 11 });
      expect(decoded[count - 1]?.content?.toString()).toBe('file 69999\n');
    },
    300_000,
  );
});
