import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from './command-line.js';
import { splitTargets } from './commands.js';
import { humanSize, renderTable, renderYamlList } from './render.js';

describe('humanSize (BentoML human_readable_size)', () => {
  it.each([
    [0, '0.00 B'],
    [1023, '1023.00 B'],
    [1024, '1.00 KiB'],
    [12_636, '12.34 KiB'],
    [5 * 1024 * 1024, '5.00 MiB'],
    [3 * 1024 ** 3 + 1024 ** 3 / 2, '3.50 GiB'],
  ])('%d -> %s', (bytes, text) => expect(humanSize(bytes)).toBe(text));
});

describe('splitTargets (BentoML delete)', () => {
  it('splits on commas when there is one, else on whitespace', () => {
    expect(splitTargets(['a:v1,', 'b:v2'])).toEqual(['a:v1', 'b:v2']);
    expect(splitTargets(['a:v1 b:v2', 'c'])).toEqual(['a:v1', 'b:v2', 'c']);
    expect(splitTargets(['a:v1, b:v2 ,c'])).toEqual(['a:v1', 'b:v2', 'c']);
  });
});

describe('renderTable and renderYamlList', () => {
  it('aligns columns two spaces apart, no trailing spaces', () => {
    expect(renderTable(['Tag', 'Size'], [['a:1', '1.00 B'], ['long:tag', '2.00 KiB']])).toBe('Tag       Size\na:1       1.00 B\nlong:tag  2.00 KiB\n');
  });
  it('sorts keys and quotes what YAML would misread', () => {
    expect(renderYamlList([{ tag: 'a:1', creation_time: '2025-01-02 03:04:05', size: '1.00 B', n: 3 }])).toBe(
      "- creation_time: '2025-01-02 03:04:05'\n  n: 3\n  size: 1.00 B\n  tag: a:1\n",
    );
    expect(renderYamlList([])).toBe('[]\n');
  });
});

describe('parseCommandLine', () => {
  it('finds the command after global options, and models subcommands', () => {
    expect(parseCommandLine(['--home', '/h', 'export', 'a:b', '-', '--format', 'gz'])).toMatchObject({
      kind: 'command',
      group: 'bentos',
      command: 'export',
      positionals: ['a:b', '-'],
      values: { home: '/h', format: 'gz' },
    });
    expect(parseCommandLine(['models', 'import', 'x.zip', '--param', 'a=1', '--param', 'b=2'])).toMatchObject({
      group: 'models',
      command: 'import',
      values: { param: ['a=1', 'b=2'] },
    });
  });
  it('gives help for the command it follows, and usage errors otherwise', () => {
    expect(parseCommandLine(['models', 'export', '--help'])).toMatchObject({ kind: 'help', topic: 'export', group: 'models' });
    expect(parseCommandLine(['--help'])).toMatchObject({ kind: 'help', topic: 'main' });
    expect(() => parseCommandLine(['get'])).toThrow(UsageError);
    expect(() => parseCommandLine(['get', 'a', '--output'])).toThrow(UsageError);
  });
});
