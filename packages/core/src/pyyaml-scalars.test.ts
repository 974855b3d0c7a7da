import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { plainScalarType, pythonFloatRepr, readsAsNonString } from './pyyaml-scalars.js';

const SCALARS = [
  '', '~', 'null', 'Null', 'NULL', 'nULL', 'yes', 'Yes', 'YES', 'yEs', 'no', 'on', 'OFF', 'y', 'n', 'true', 'False',
  '0', '-0', '+7', '1_000', '0b101', '-0b1_1', '0x1F', '0x_1f', '017', '0_17', '09', '0o17', '1:30', '-1:30:15', '1:60', '190:20:30',
  '1.5', '1.', '-1.50', '1e1', '1E1', 'e1', '.5e1', '1.0e1', '1.0e+1', '1.5E-7', '1_0.2_5', '.5', '-.5', '+.5', '._', '._1', '.5_',
  '1:30.5', '.inf', '-.Inf', '+.INF', '.nan', '.NaN', '-.nan', '2026-01-01', '2026-1-1', '2026-01-01T10:00:00Z',
  '2026-1-2 3:04:05.1234567 -5', '2026-01-01t10:00:00+05:30', '2026-01-01 10:00:00', '20260101', '<<', '=', 'abc', '1 000',
];

describe('plainScalarType', () => {
  it.each([
    ['e1', 'str'], ['1e1', 'str'], ['.5e1', 'str'], ['0o17', 'str'], ['09', 'str'], ['-.5', 'str'],
    ['1_000', 'int'], ['017', 'int'], ['0x1F', 'int'], ['0b1', 'int'], ['1:30', 'int'],
    ['1.0e+1', 'float'], ['.5', 'float'], ['1:30.5', 'float'], ['.inf', 'float'], ['.NaN', 'float'],
    ['yes', 'bool'], ['OFF', 'bool'], ['yEs', 'str'], ['~', 'null'], ['', 'null'],
    ['2026-01-01', 'timestamp'], ['2026-1-1', 'str'], ['2026-1-1 1:00:00', 'timestamp'],
  ])('%s is %s', (text, type) => {
    expect(plainScalarType(text)).toBe(type);
  });

  it('readsAsNonString says which strings a writer must quote', () => {
    expect(SCALARS.filter(readsAsNonString)).not.toContain('1e1');
    expect(['yes', '1_000', '~', '2026-01-01', '=', '<<'].every(readsAsNonString)).toBe(true);
  });
});

describe('pythonFloatRepr is Python repr(float)', () => {
  it.each([
    [1, '1.0'], [1.5, '1.5'], [-0, '-0.0'], [1e16, '1e+16'], [1.5e-7, '1.5e-07'], [123456789, '123456789.0'],
    [0.0001, '0.0001'], [0.00001, '1e-05'], [Infinity, 'inf'], [-Infinity, '-inf'], [NaN, 'nan'], [2 ** 53, '9007199254740992.0'],
  ])('%d → %s', (value, text) => {
    expect(pythonFloatRepr(value)).toBe(text);
  });
});

function pyyamlTypes(scalars: string[]): string[] | undefined {
  const script = [
    'import sys, json, datetime, yaml',
    'names = {type(None): "null", bool: "bool", int: "int", float: "float", str: "str", datetime.date: "timestamp", datetime.datetime: "timestamp"}',
    'out = []',
    'for s in json.load(sys.stdin):',
    '    try:',
    '        out.append(names[type(yaml.safe_load("a: " + s)["a"])])',
    '    except yaml.constructor.ConstructorError as error:',
    '        out.append("merge" if "merge" in str(error) else "value")',
    '    except ValueError:',
    // The resolver said int or timestamp; the constructor then refused the digits or the date.
    '        out.append("refused")',
    'print(json.dumps(out))',
  ].join('\n');
  try {
    return JSON.parse(execFileSync(process.env.PYTHON ?? 'python3', ['-c', script], { input: JSON.stringify(scalars), encoding: 'utf8' })) as string[];
  } catch {
    return undefined;
  }
}

const pyyaml = pyyamlTypes(SCALARS);

describe.skipIf(pyyaml === undefined)('differential: python3 yaml.safe_load', () => {
  it('gives every plain scalar the same type', () => {
    const ours = SCALARS.map((text) => [text, plainScalarType(text)]);
    expect(ours).toEqual(SCALARS.map((text, index) => [text, pyyaml?.[index]]));
  });
});
