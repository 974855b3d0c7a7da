import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tarFormat } from './index.js';
import { entriesFromList, pythonBytes, readAll, run } from './test-tree.js';

const format = tarFormat();
const list = [{ path: 'bento.yaml', type: 'file' as const, mode: 0o644, mtime: 0, body: Buffer.from('name: svc\n') }];

describe('sniff', () => {
  it('recognises our own tar and gz', async () => {
    expect(format.sniff(await readAll(format.encode(entriesFromList(list), { format: 'tar' })))).toBe('tar');
    expect(format.sniff(await readAll(format.encode(entriesFromList(list), { format: 'gz' })))).toBe('gz');
  });

  it('recognises GNU tar (magic "ustar ") and POSIX tar (magic "ustar\\0") from their first 512 bytes', () => {
    const gnu = run('tar', ['--format=gnu', '-cf', '-', '-C', '/etc', 'hostname']).stdout;
    expect(gnu.subarray(257, 263).toString('latin1')).toBe('ustar ');
    expect(format.sniff(gnu.subarray(0, 512))).toBe('tar');
    const posix = run('tar', ['--format=posix', '-cf', '-', '-C', '/etc', 'hostname']).stdout;
    expect(format.sniff(posix.subarray(0, 512))).toBe('tar');
  });

  it('recognises a v7 header by its checksum alone', () => {
    const v7 = pythonBytes(`import io, sys, tarfile
b = io.BytesIO()
with tarfile.open(fileobj=b, mode='w', format=tarfile.USTAR_FORMAT) as tar:
    info = tarfile.TarInfo('old.txt'); info.size = 0
    tar.addfile(info)
data = bytearray(b.getvalue()[:512])
data[257:265] = bytes(8)
data[148:156] = b'%06o\\0 ' % (256 + sum(data[:148]) + sum(data[156:512]))
sys.stdout.buffer.write(bytes(data))`);
    expect(format.sniff(v7)).toBe('tar');
    const broken = Buffer.from(v7);
    broken[0] = (broken[0] ?? 0) ^ 1;
    expect(format.sniff(broken)).toBeUndefined();
  });

  it('claims gzip by its two magic bytes, even on a short head', () => {
    expect(format.sniff(gzipSync('x'))).toBe('gz');
    expect(format.sniff(new Uint8Array([0x1f, 0x8b]))).toBe('gz');
  });

  it('leaves xz, bzip2, zip, zeros, text and short input alone', () => {
    const xz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, ...new Array(600).fill(0)]);
    const bzip2 = Buffer.from(`BZh91AY&SY${'\0'.repeat(600)}`, 'latin1');
    const zip = Buffer.from(`PK\x03\x04${'\0'.repeat(600)}`, 'latin1');
    for (const head of [xz, bzip2, zip, Buffer.alloc(512), Buffer.from('service: svc\n'.repeat(50)), new Uint8Array(0), new Uint8Array([0x1f])]) {
      expect(format.sniff(head)).toBeUndefined();
    }
  });
});
