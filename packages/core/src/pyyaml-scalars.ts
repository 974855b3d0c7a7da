import { isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node, type ScalarTag, type Tags } from 'yaml';

/**
 * How BentoML reads bento.yaml and model.yaml: PyYAML's `safe_load`, whose YAML 1.1 resolver
 * decides the type of each plain (unquoted) scalar by these patterns, tried after the first
 * character. Anything no pattern matches is a string: `e1`, `1e1`, `.5e1` (the exponent needs a
 * dot and a sign), `0o17` (1.1 octal is `017`), `09`, `-.5`, `2026-1-1`.
 * Checked against PyYAML 6.0.3 (the float pattern's `\.[0-9][0-9_]*`, not `\.[0-9_]+`, is from
 * 6.0: `._` is a string there).
 */
const PLAIN_PATTERNS = {
  null: /^(?:~|null|Null|NULL|)$/,
  bool: /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  int: /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  float:
    /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  timestamp:
    /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$/,
  // `<<` is the merge key; `=` the "value" type, which safe_load has no constructor for.
  merge: /^<<$/,
  value: /^=$/,
} as const;

/** The type PyYAML gives a plain scalar. */
export type PlainScalarType = keyof typeof PLAIN_PATTERNS | 'str';

/**
 * The type PyYAML's `safe_load` gives `text` written as a plain (unquoted) scalar.
 * @example plainScalarType('1e1') // 'str'
 * @example plainScalarType('1_000') // 'int'
 */
export function plainScalarType(text: string): PlainScalarType {
  for (const [type, pattern] of Object.entries(PLAIN_PATTERNS)) if (pattern.test(text)) return type as PlainScalarType;
  return 'str';
}

/**
 * Whether a string must be quoted for PyYAML to read it back as that string: a writer of
 * bento.yaml or model.yaml must quote `yes`, `1_000`, `2026-01-01` (but need not quote `1e1`).
 */
export function readsAsNonString(text: string): boolean {
  return plainScalarType(text) !== 'str';
}

const TIMESTAMP_PARTS =
  /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9]{1,2})(?::([0-9]{2}))?))?)?$/;

/** The parts of a timestamp, checked as Python's `date` and `datetime` check them. */
interface TimestampParts {
  year: number;
  month: number;
  day: number;
  /** Undefined for a date alone (PyYAML makes a `date`, not a `datetime`). */
  time?: { hour: number; minute: number; second: number; microsecond: number };
  /** Minutes east of UTC; undefined for a naive time. */
  offsetMinutes?: number;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** @throws {RangeError} with Python's words when `datetime` would refuse the value. */
function timestampParts(text: string): TimestampParts {
  const match = TIMESTAMP_PARTS.exec(text);
  if (!match) throw new RangeError(`'${text}' is not a timestamp`);
  const [, year, month, day, hour, minute, second, fraction = '', zone, sign, zoneHour, zoneMinute = '0'] = match;
  const parts: TimestampParts = { year: Number(year), month: Number(month), day: Number(day) };
  if (parts.year < 1) throw new RangeError(`year ${parts.year} is out of range`);
  if (parts.month < 1 || parts.month > 12) throw new RangeError('month must be in 1..12');
  if (parts.day < 1 || parts.day > daysInMonth(parts.year, parts.month)) throw new RangeError('day is out of range for month');
  if (hour === undefined) return parts;
  parts.time = { hour: Number(hour), minute: Number(minute), second: Number(second), microsecond: Number(fraction.slice(0, 6).padEnd(6, '0')) };
  if (parts.time.hour > 23) throw new RangeError('hour must be in 0..23');
  if (parts.time.minute > 59) throw new RangeError('minute must be in 0..59');
  if (parts.time.second > 59) throw new RangeError('second must be in 0..59');
  if (zone === 'Z') parts.offsetMinutes = 0;
  else if (zone !== undefined) {
    const minutes = Number(zoneHour) * 60 + Number(zoneMinute);
    if (minutes >= 24 * 60) throw new RangeError('offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24)');
    parts.offsetMinutes = sign === '-' ? -minutes : minutes;
  }
  return parts;
}

/** A timestamp as a Date; naive times are taken as UTC, as everywhere in bentoport. */
function timestampDate(parts: TimestampParts): Date {
  const { hour = 0, minute = 0, second = 0, microsecond = 0 } = parts.time ?? {};
  // setUTCFullYear, not Date.UTC, which would read the years 0–99 as 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(parts.year, parts.month - 1, parts.day);
  date.setUTCHours(hour, minute - (parts.offsetMinutes ?? 0), second, Math.floor(microsecond / 1000));
  return date;
}

/** PyYAML's int: `_` ignored, `0b` binary, `0x` hex, a leading `0` octal, `a:b:c` base 60. */
function pyyamlInt(text: string): bigint {
  const digits = text.replace(/_/g, '');
  const negative = digits.startsWith('-');
  const unsigned = digits.replace(/^[-+]/, '');
  let value: bigint;
  if (unsigned.startsWith('0b') || unsigned.startsWith('0x')) {
    // Python's int('', 2) fails: `0b_` is an int to the resolver but not to the constructor.
    if (unsigned.length === 2) throw new RangeError(`invalid literal for int(): '${text}'`);
    value = BigInt(unsigned);
  } else if (unsigned.includes(':')) {
    value = unsigned.split(':').reduce((total, part) => total * 60n + BigInt(part), 0n);
  } else if (unsigned.length > 1 && unsigned.startsWith('0')) {
    value = BigInt(`0o${unsigned.slice(1)}`);
  } else {
    value = BigInt(unsigned);
  }
  return negative ? -value : value;
}

/** PyYAML's float: `_` ignored, `.inf`/`.nan`, `a:b.c` base 60 summed from the right as Python does. */
function pyyamlFloat(text: string): number {
  const digits = text.replace(/_/g, '').toLowerCase();
  const sign = digits.startsWith('-') ? -1 : 1;
  const unsigned = digits.replace(/^[-+]/, '');
  if (unsigned === '.inf') return sign * Infinity;
  if (unsigned === '.nan') return NaN;
  if (!unsigned.includes(':')) return sign * Number(unsigned);
  let value = 0;
  let base = 1;
  for (const part of unsigned.split(':').reverse()) {
    value += Number(part) * base;
    base *= 60;
  }
  return sign * value;
}

/** A tag of the yaml library that resolves plain scalars as PyYAML does. */
function plainTag(type: Exclude<PlainScalarType, 'str' | 'merge'>, resolve: ScalarTag['resolve']): ScalarTag {
  return { tag: `tag:yaml.org,2002:${type}`, default: true, test: PLAIN_PATTERNS[type], resolve };
}

const failure = (error: unknown) => (error instanceof Error ? error.message : String(error));

const PYYAML_SCALAR_TAGS: ScalarTag[] = [
  plainTag('null', () => null),
  plainTag('bool', (text) => /^(?:yes|true|on)$/i.test(text)),
  plainTag('int', (text, onError) => {
    try {
      // A JS number, as the rest of the document: precision beyond 2^53 is lost here, and kept by pythonStr.
      return Number(pyyamlInt(text));
    } catch (error) {
      onError(failure(error));
      return text;
    }
  }),
  plainTag('float', (text) => pyyamlFloat(text)),
  plainTag('timestamp', (text, onError) => {
    try {
      return timestampDate(timestampParts(text));
    } catch (error) {
      onError(failure(error));
      return text;
    }
  }),
  plainTag('value', (text, onError) => {
    onError("could not determine a constructor for the tag 'tag:yaml.org,2002:value'");
    return text;
  }),
  // `<<` as a key merges (the yaml library's own merge tag, kept below); as a value safe_load fails.
  {
    tag: 'tag:yaml.org,2002:merge-value',
    default: true,
    test: PLAIN_PATTERNS.merge,
    resolve: (text, onError) => {
      onError("could not determine a constructor for the tag 'tag:yaml.org,2002:merge'");
      return text;
    },
  },
];

/** The scalar tags YAML 1.1 and PyYAML agree on are kept; the implicit ones are replaced. */
const REPLACED_TAGS = new Set(['null', 'bool', 'int', 'float', 'timestamp'].map((type) => `tag:yaml.org,2002:${type}`));

function pyyamlTags(tags: Tags): Tags {
  const kept = tags.filter((tag) => typeof tag === 'string' || !REPLACED_TAGS.has(tag.tag));
  // The library's merge tag applies only at a key, so it must come before the one that fails at a value.
  return [...kept, ...PYYAML_SCALAR_TAGS];
}

/**
 * Parse YAML the way PyYAML's `safe_load` does: YAML 1.1, PyYAML's implicit types, duplicate keys
 * allowed (the last wins), `<<` merges. Returns the document, whose nodes keep each scalar's
 * source for {@link pythonStr}.
 * @throws {Error} the first parse or type error (an invalid date, `=`), in the yaml library's words.
 */
export function parsePyYaml(text: string): Document.Parsed {
  const document = parseDocument(text, { version: '1.1', schema: 'yaml-1.1', customTags: pyyamlTags, uniqueKeys: false, merge: true });
  const [first] = document.errors;
  if (first) throw first;
  return document;
}

/** Python's `repr` of a float, which `str` prints: shortest round trip, `1.0`, `1e+16`, `inf`. */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa = '', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  const sign = value < 0 ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    return `${sign}${digits[0]}${fraction}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction || '0'}`;
}

const two = (value: number) => String(value).padStart(2, '0');

/** Python's `str` of a `date` or `datetime`: `2026-01-02`, `2026-01-02 03:04:05.000006+00:00`. */
function pythonTimestampStr(text: string): string {
  const parts = timestampParts(text);
  const date = `${String(parts.year).padStart(4, '0')}-${two(parts.month)}-${two(parts.day)}`;
  if (!parts.time) return date;
  const { hour, minute, second, microsecond } = parts.time;
  const fraction = microsecond === 0 ? '' : `.${String(microsecond).padStart(6, '0')}`;
  let zone = '';
  if (parts.offsetMinutes !== undefined) {
    const minutes = Math.abs(parts.offsetMinutes);
    zone = `${parts.offsetMinutes < 0 ? '-' : '+'}${two(Math.floor(minutes / 60))}:${two(minutes % 60)}`;
  }
  return `${date} ${two(hour)}:${two(minute)}:${two(second)}${fraction}${zone}`;
}

/** The scalar behind an alias (`*anchor`), or the node itself. */
function resolved(node: unknown, document: Document.Parsed): unknown {
  return isAlias(node) ? node.resolve(document) : node;
}

/**
 * What Python's `str()` makes of a scalar node as PyYAML loaded it: what BentoML's attrs classes
 * do to a field typed `str` (cattrs calls `str(value)`) and to label values. `None`, `True`,
 * `1.0`, `15` for `017`, `2026-01-01`. Undefined for a mapping or a list.
 */
export function pythonStr(node: unknown, document: Document.Parsed): string | undefined {
  const scalar = resolved(node, document);
  if (isMap(scalar) || isSeq(scalar) || !isScalar(scalar)) return undefined;
  const value = scalar.value;
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  const source = typeof scalar.source === 'string' ? scalar.source : undefined;
  if (value instanceof Date) return source !== undefined && PLAIN_PATTERNS.timestamp.test(source) ? pythonTimestampStr(source) : value.toISOString();
  if (typeof value === 'number') {
    // Python's ints are exact at any size: rebuild the digits from the source, not the rounded number.
    if (source !== undefined && PLAIN_PATTERNS.int.test(source)) return pyyamlInt(source).toString();
    return pythonFloatRepr(value);
  }
  return String(value);
}

/** The nodes of a mapping, by key, with the key as Python's `str()` prints it. */
export function mappingEntries(node: unknown, document: Document.Parsed): { key: string | undefined; value: unknown }[] | undefined {
  const map = resolved(node, document);
  if (!isMap(map)) return undefined;
  return map.items.map((pair) => ({ key: pythonStr(pair.key as Node, document), value: pair.value }));
}
