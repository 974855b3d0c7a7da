import { afterEach, describe, expect, it } from 'vitest';
import { zipFormat } from './index.js';
import type { EntrySpec } from './test-helpers.js';
import { collect, entriesFrom } from './test-helpers.js';

const tree: EntrySpec[] = [
  { path: 'bento.yaml', content: 'service: svc:Service\n', mtime: 1_700_000_000.75 },
  { path: 'models', mode: 0o755, mtime: 1_650_000_000 },
  { path: 'models/weights.bin', content: Buffer.alloc(3_000_000, 7), mtime: 1_600_000_001 },
  // Late evening UTC: the local date differs east of UTC, so local-time DOS stamps would differ.
  { path: 'src/é.py', content: 'x = 1\n'.repeat(1000), mtime: Date.UTC(2024, 2, 3, 22, 30, 0) / 1000 },
];

const originalTimeZone = process.env.TZ;
afterEach(() => {
  if (originalTimeZone === undefined) delete process.env.TZ;
  else process.env.TZ = originalTimeZone;
});

async function encode(): Promise<Buffer> {
  return collect(zipFormat({ deflatePieceSize: 256 * 1024 }).encode(entriesFrom(tree), { format: 'zip', compression: 'auto' }));
}

describe('reproducible output', () => {
  it('writes the same bytes for the same entries', async () => {
    const first = await encode();
    const second = await encode();
    expect(second.equals(first)).toBe(true);
  });

  it('writes the same bytes whatever the time zone', async () => {
    process.env.TZ = 'UTC';
    const utcHour = new Date(Date.UTC(2024, 2, 3, 22, 30)).getHours();
    const inUtc = await encode();
    process.env.TZ = 'Asia/Kolkata';
    // Node re-reads TZ when it changes; check that it did, or this test would prove nothing.
    expect(new Date(Date.UTC(2024, 2, 3, 22, 30)).getHours()).not.toBe(utcHour);
    const inKolkata = await encode();
    expect(inKolkata.equals(inUtc)).toBe(true);
  });

  it('stamps DOS times in UTC and clamps them to 1980..2107', async () => {
    const zip = zipFormat();
    const stamp = async (mtime: number): Promise<[number, number]> => {
      const archive = await collect(zip.encode(entriesFrom([{ path: 'f', content: '', mtime }]), { format: 'zip' }));
      return [archive.readUInt16LE(12), archive.readUInt16LE(10)]; // local header date, time
    };
    process.env.TZ = 'Asia/Kolkata';
    // 2024-03-03 22:30:00 UTC → date (44 << 9 | 3 << 5 | 3), time (22 << 11 | 30 << 5).
    expect(await stamp(Date.UTC(2024, 2, 3, 22, 30, 0) / 1000)).toEqual([(44 << 9) | (3 << 5) | 3, (22 << 11) | (30 << 5)]);
    expect(await stamp(0)).toEqual([(0 << 9) | (1 << 5) | 1, 0]);
    expect(await stamp(Date.UTC(2200, 0, 1) / 1000)).toEqual([(127 << 9) | (12 << 5) | 31, (23 << 11) | (59 << 5) | 29]);
  });
});
