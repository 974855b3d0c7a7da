import { describe, expect, it } from 'vitest';
import { lineFormat } from './line-format/line-format.js';
import { runFormatSuite } from './run-format-suite.js';
import { readAll } from './archive-io.js';
import { entriesOf, plainTree } from './sample-tree.js';

runFormatSuite({ name: 'lines (reference)', format: lineFormat() });

// The random-access decoder path, and a format without links: the suite must run the
// random-access checks and skip the link round trips, not fail them.
runFormatSuite({ name: 'lines (random access, no links)', format: () => lineFormat({ randomAccessDecode: true, symlinks: false, hardlinks: false }) });

describe('lineFormat', () => {
  it('writes the documented layout', async () => {
    const bytes = await readAll(lineFormat().encode(entriesOf(plainTree().slice(0, 2)), { format: 'lines' }));
    const lines = bytes.toString('utf8').split('\n');
    expect(lines[0]).toBe('bentoport-lines 1');
    expect(JSON.parse(lines[1] ?? '')).toEqual({ path: 'bento.yaml', type: 'file', mode: 0o644, mtime: 1_234_567_891, size: 300 });
    expect(JSON.parse(lines.at(-2) ?? '')).toMatchObject({ end: 2 });
  });

  it('refuses links it was told not to store, with ERR_UNSUPPORTED_FORMAT', async () => {
    const format = lineFormat({ symlinks: false });
    const output = format.encode(entriesOf([{ path: 'l', type: 'symlink', mode: 0o777, mtime: 0, linkTarget: 'x' }]), { format: 'lines' });
    await expect(readAll(output)).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_FORMAT' });
  });

  it('validates its options', () => {
    expect(() => lineFormat(null as never)).toThrow(TypeError);
  });
});

describe('runFormatSuite', () => {
  it('refuses a skip naming no check, with a TypeError', () => {
    expect(() => runFormatSuite({ format: lineFormat(), skip: { 'no-such-check': 'typo' } })).toThrow(/names no check: no-such-check/);
  });
});
