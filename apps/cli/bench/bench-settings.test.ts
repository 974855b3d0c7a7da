import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBenchSettings } from './bench-settings.js';

const root = '/repository';

describe('readBenchSettings', () => {
  it('has the documented defaults', () => {
    const settings = readBenchSettings({}, root);
    expect(settings).toMatchObject({ sizeMiB: 1024, smallFiles: 10_000, layouts: ['few-large', 'many-small'], rounds: 3, scratchParent: undefined, writeReadme: false });
    expect(settings.formats.map((spec) => spec.label)).toEqual(['tar', 'gz', 'zip']);
    expect(settings.outFile).toBe(path.join(root, 'apps', 'cli', 'bench', 'results.md'));
  });

  it('reads every variable', () => {
    const settings = readBenchSettings(
      { BENCH_SIZE_MB: '32', BENCH_SMALL_FILES: '500', BENCH_LAYOUTS: 'many-small', BENCH_ROUNDS: '1', BENCH_FORMATS: 'gz:store, bento', BENCH_SKIP: 'python xztar', BENCH_DIR: '/scratch', BENCH_OUT: 'out.md', BENCH_README: '1' },
      root,
    );
    expect(settings).toMatchObject({ sizeMiB: 32, smallFiles: 500, layouts: ['many-small'], rounds: 1, scratchParent: '/scratch', outFile: path.join(root, 'out.md'), writeReadme: true });
    expect(settings.formats).toEqual([{ format: 'gz', policy: 'store', label: 'gz:store' }, { format: 'bento', policy: 'auto', label: 'bento' }]);
    expect([...settings.skip]).toEqual(['python xztar']);
  });

  it('keeps the layouts in generation order', () => {
    expect(readBenchSettings({ BENCH_LAYOUTS: 'many-small,few-large' }, root).layouts).toEqual(['few-large', 'many-small']);
  });

  it('refuses the renamed variables instead of ignoring them', () => {
    expect(() => readBenchSettings({ BENCH_RUNS: '1' }, root)).toThrow('BENCH_RUNS was renamed BENCH_ROUNDS');
    expect(() => readBenchSettings({ BENCH_SOURCE_FILES: '3000' }, root)).toThrow('BENCH_SOURCE_FILES was renamed BENCH_SMALL_FILES');
  });

  it('runs every network transport by default, on tar and gz', () => {
    expect(readBenchSettings({}, root)).toMatchObject({ network: ['http', 's3', 'ftp', 'sftp'], networkFormats: ['tar', 'gz'] });
    expect(readBenchSettings({ BENCH_NETWORK: 'sftp,http', BENCH_NETWORK_FORMATS: 'tar' }, root)).toMatchObject({ network: ['http', 'sftp'], networkFormats: ['tar'] });
    expect(readBenchSettings({ BENCH_NETWORK: 'none' }, root).network).toEqual([]);
    expect(readBenchSettings({ BENCH_FORMATS: 'none' }, root).formats).toEqual([]);
  });

  it('refuses the per-transport switches BENCH_NETWORK replaced', () => {
    expect(() => readBenchSettings({ BENCH_HTTP: '1' }, root)).toThrow('BENCH_HTTP was replaced by BENCH_NETWORK');
    expect(() => readBenchSettings({ BENCH_SFTP: '1' }, root)).toThrow('BENCH_NETWORK=sftp');
  });

  it('refuses values it cannot use', () => {
    expect(() => readBenchSettings({ BENCH_NETWORK: 'gopher' }, root)).toThrow('unknown transport gopher');
    expect(() => readBenchSettings({ BENCH_NETWORK_FORMATS: 'zip' }, root)).toThrow('zip is not one a tar pipe reproduces');
    expect(() => readBenchSettings({ BENCH_ROUNDS: '0' }, root)).toThrow('BENCH_ROUNDS=0');
    expect(() => readBenchSettings({ BENCH_SIZE_MB: 'big' }, root)).toThrow('BENCH_SIZE_MB=big');
    expect(() => readBenchSettings({ BENCH_LAYOUTS: 'huge' }, root)).toThrow('unknown layout huge');
    expect(() => readBenchSettings({ BENCH_FORMATS: 'rar' }, root)).toThrow('unknown format rar');
    expect(() => readBenchSettings({ BENCH_FORMATS: 'gz:fast' }, root)).toThrow('unknown policy fast');
  });
});
