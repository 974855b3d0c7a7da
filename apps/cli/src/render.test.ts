import { describe, expect, it } from 'vitest';
import { hasPython, python } from '@bentoport/test-utils';
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

  // Strings PyYAML's YAML 1.1 resolver reads as another type, and look-alikes it keeps as strings.
  const ODD = ['0x1F', '1:30', '.inf', '.NaN', '017', '0b1', '=', '<<', 'On', '1e1', '.5e1', '0o17', '09', 'e1', '-.5'];

  it('quotes exactly the strings PyYAML would not read back as strings', () => {
    expect(renderYamlList(ODD.map((value) => ({ value })))).toBe(
      "- value: '0x1F'\n- value: '1:30'\n- value: '.inf'\n- value: '.NaN'\n- value: '017'\n- value: '0b1'\n- value: '='\n" +
        "- value: '<<'\n- value: 'On'\n- value: 1e1\n- value: .5e1\n- value: 0o17\n- value: 09\n- value: e1\n- value: -.5\n",
    );
  });

  it.skipIf(!hasPython(['yaml']))('round-trips through python3 yaml.safe_load as strings', async () => {
    const text = renderYamlList(ODD.map((value) => ({ value })));
    const loaded = await python('import sys, json, yaml; print(json.dumps([row["value"] for row in yaml.safe_load(sys.stdin)]))', [], { input: text });
    expect(JSON.parse(loaded)).toEqual(ODD);
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
