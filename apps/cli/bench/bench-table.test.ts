import { describe, expect, it } from 'vitest';
import { perFileCosts, perFileMicroseconds, type Row } from './bench-table.js';

describe('perFileMicroseconds', () => {
  it('charges the files only what the bytes do not explain', () => {
    // 1 s for 1000 bytes in 10 files; 3 s for 500 bytes in 1010 files: 0.5 s of bytes, 2.5 s over 1000 more files.
    expect(perFileMicroseconds({ seconds: 1, files: 10, bytes: 1000 }, { seconds: 3, files: 1010, bytes: 500 })).toBeCloseTo(2500);
  });
});

describe('perFileCosts', () => {
  const row = (layout: Row['layout'], tool: string, seconds: number): Row => ({ layout, format: 'tar', operation: 'export', tool, work: 'same', seconds, maxRssMiB: 1, size: 1, load: 0 });
  const layouts = [
    { layout: 'few-large' as const, files: 40, bytes: 1000 },
    { layout: 'many-small' as const, files: 10_040, bytes: 1000 },
  ];

  it('pairs each tool across the layouts', () => {
    const costs = perFileCosts([row('few-large', 'a', 1), row('many-small', 'a', 2), row('many-small', 'b', 5)], layouts);
    expect(costs).toEqual([{ format: 'tar', operation: 'export', tool: 'a', fewLargeSeconds: 1, manySmallSeconds: 2, microsecondsPerFile: 100 }]);
  });

  it('gives nothing when one layout did not run', () => {
    expect(perFileCosts([row('many-small', 'a', 2)], [layouts[1]!])).toEqual([]);
  });
});
