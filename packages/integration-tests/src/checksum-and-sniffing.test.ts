import { randomBytes } from 'node:crypto';
import { copyFile, open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tarFormat } from '@bentoport/format-tar';
import { zipFormat } from '@bentoport/format-zip';
import { writeSampleBento } from '@bentoport/test-utils';
import { THREADED_DIGEST_MIN_BYTES } from '@bentoport/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bentoportAt, listTree, rejectionOf, scratch } from './harness.js';

describe('checksums', () => {
  it('writes <archive>.sha256 in sha256sum format, and import verifies against it', async () => {
    const { root, homeA, homeB } = await scratch('sidecar');
    const sample = await writeSampleBento(homeA);
    const archive = path.join(root, 'x.tar.gz');
    const exported = await bentoportAt(homeA).exportBento(sample.bentoTag, archive, undefined, { checksumFile: true });
    expect(exported.checksumFile).toBe(`${archive}.sha256`);
    expect(await readFile(`${archive}.sha256`, 'utf8')).toBe(`${exported.sha256}  x.tar.gz\n`);
    expect(execFileSync('sha256sum', ['-c', 'x.tar.gz.sha256'], { cwd: root }).toString()).toContain('OK');
    const imported = await bentoportAt(homeB).importBento(archive);
    expect(imported.verifiedAgainst).toBe('checksum-file');
  });

  it('lets nothing into the store when the digest does not match', async () => {
    const { root, homeA, homeB } = await scratch('mismatch');
    const sample = await writeSampleBento(homeA);
    const archive = path.join(root, 'x.tar.gz');
    await bentoportAt(homeA).exportBento(sample.bentoTag, archive, undefined, { checksumFile: true });
    await writeFile(`${archive}.sha256`, `${'0'.repeat(64)}  x.tar.gz\n`);
    const b = bentoportAt(homeB);
    const error = await rejectionOf(b.importBento(archive));
    expect(error.code).toBe('ERR_CORRUPT_ARCHIVE');
    expect(error.message).toContain('SHA-256 mismatch');
    const optionError = await rejectionOf(b.importBento(archive, undefined, { sha256: 'f'.repeat(64) }));
    expect(optionError.code).toBe('ERR_CORRUPT_ARCHIVE');
    expect(await listTree(path.join(homeB, 'bentos'))).toEqual([]);
    expect(await listTree(path.join(homeB, 'models'))).toEqual([]);
    const badOption = await rejectionOf(b.importBento(archive, undefined, { sha256: 'xyz' }));
    expect(badOption.code).toBe('ERR_INVALID_OPTION');
  });

  it('detects a flipped byte in a stored (uncompressed) tar only through the digest', async () => {
    const { root, homeA, homeB } = await scratch('flip');
    const sample = await writeSampleBento(homeA, { models: 1 });
    const archive = path.join(root, 'x.tar');
    const exported = await bentoportAt(homeA).exportBento(sample.bentoTag, archive);
    const bytes = await readFile(archive);
    const flipAt = bytes.length - 20_000; // inside the weights
    bytes.writeUInt8((bytes[flipAt] as number) ^ 0xff, flipAt);
    await writeFile(archive, bytes);
    const error = await rejectionOf(bentoportAt(homeB).importBento(archive, undefined, { sha256: exported.sha256 }));
    expect(error.code).toBe('ERR_CORRUPT_ARCHIVE');
    expect(await listTree(path.join(homeB, 'bentos'))).toEqual([]);
  });
});

describe('format sniffing', () => {
  it('imports an extensionless gzip file and a .bento that is really gzip', async () => {
    const { root, homeA } = await scratch('sniff');
    const sample = await writeSampleBento(homeA);
    const archive = path.join(root, 'x.tar.gz');
    await bentoportAt(homeA).exportBento(sample.bentoTag, archive);
    for (const name of ['noextension', 'mislabelled.bento']) {
      await copyFile(archive, path.join(root, name));
      const imported = await bentoportAt(path.join(root, `home-${name}`)).importBento(path.join(root, name));
      expect(imported.format).toBe('gz');
    }
  });

  it('names the token no installed plugin reads for xz bytes, and says when bytes match no format', async () => {
    const { root, homeA } = await scratch('sniff-errors');
    await writeFile(path.join(root, 'plain.txt'), 'hello');
    execFileSync('xz', ['-k', path.join(root, 'plain.txt')]);
    // Without format-xz installed (the harness has every plugin).
    const a = bentoportAt(homeA, { formats: [tarFormat(), zipFormat()] });
    const xzError = await rejectionOf(a.importBento(path.join(root, 'plain.txt.xz')));
    expect(xzError.code).toBe('ERR_UNSUPPORTED_FORMAT');
    expect(xzError.message).toContain("no installed format reads or writes 'xz' (tar+xz); installed formats: tar, gz, zip");
    const garbage = await rejectionOf(a.importBento(path.join(root, 'plain.txt')));
    expect(garbage.code).toBe('ERR_UNSUPPORTED_FORMAT');
    expect(garbage.message).toContain('match no known format');
  });

  it('without format-xz, export to the native .bento format names the token it needs, and writes nothing', async () => {
    const { root, homeA } = await scratch('native');
    const sample = await writeSampleBento(homeA);
    const error = await rejectionOf(bentoportAt(homeA, { formats: [tarFormat(), zipFormat()] }).exportBento(sample.bentoTag, path.join(root, 'x')));
    expect(error.code).toBe('ERR_UNSUPPORTED_FORMAT');
    expect(error.message).toContain("no installed format reads or writes 'bento'");
    expect(await listTree(root)).toEqual(['a', ...(await listTree(homeA)).map((entry) => `a/${entry}`)].sort());
  });

  it('missing source and missing parent directory are ERR_NOT_FOUND', async () => {
    const { root, homeA } = await scratch('missing');
    const sample = await writeSampleBento(homeA);
    const a = bentoportAt(homeA);
    expect((await rejectionOf(a.importBento(path.join(root, 'nope.tar')))).code).toBe('ERR_NOT_FOUND');
    expect((await rejectionOf(a.exportBento(sample.bentoTag, path.join(root, 'no', 'dir', 'x.tar')))).code).toBe('ERR_NOT_FOUND');
    expect((await rejectionOf(a.exportBento(sample.bentoTag, 'ftp://host/x.tar'))).code).toBe('ERR_UNSUPPORTED_PROTOCOL');
  });
});

describe('a failed import of a large archive', () => {
  /** Worker threads alive in this process (the digest of a large archive runs on one). */
  const liveWorkers = (): number => (process.report.getReport() as { workers: unknown[] }).workers.length;

  async function largeFile(file: string, head: Buffer): Promise<void> {
    const handle = await open(file, 'w');
    try {
      await handle.write(head);
      const block = randomBytes(1024 * 1024);
      for (let written = head.length; written < THREADED_DIGEST_MIN_BYTES + 1024 * 1024; written += block.length) await handle.write(block);
    } finally {
      await handle.close();
    }
  }

  it.each([
    ['bytes that match no format', Buffer.alloc(0), 'ERR_UNSUPPORTED_FORMAT'],
    ['a zip head over junk (no central directory)', Buffer.from('PK\x03\x04'), 'ERR_CORRUPT_ARCHIVE'],
  ])('%s: rejects, and leaves no hash thread behind to keep the process alive', async (_name, head, code) => {
    const { root, homeB } = await scratch('large-failure');
    const archive = path.join(root, 'junk.bin');
    await largeFile(archive, head);
    const before = liveWorkers();
    const error = await rejectionOf(bentoportAt(homeB).importBento(archive));
    expect(error.code).toBe(code);
    for (let attempt = 0; attempt < 100 && liveWorkers() > before; attempt++) await sleep(20);
    expect(liveWorkers()).toBe(before);
  });
});

