/**
 * A tiny YAML writer that renders what PyYAML's `yaml.safe_dump(value, sort_keys=False)` renders
 * for the plain data BentoML writes (maps, lists, strings, numbers, booleans, null): block style,
 * 2-space indent, list items at their key's column, strings quoted when they would read back as
 * another type. Long-line folding is not implemented: keep generated strings short.
 */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

const RESERVED_WORDS =
  /^(?:~|null|Null|NULL|yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const NUMBER_LIKE =
  /^(?:[-+]?(?:0b[01_]+|0[0-7_]+|(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const TIMESTAMP_LIKE = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/;

function needsQuotes(text: string): boolean {
  if (text === '') return true;
  if (RESERVED_WORDS.test(text) || NUMBER_LIKE.test(text) || TIMESTAMP_LIKE.test(text)) return true;
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(text) && !/^[-?:][^\s]/.test(text)) return true;
  if (/^[-?:]$/.test(text)) return true;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must be quoted
  if (/: |:$| #|^\s|\s$|[\t\u0000-\u001f\u007f-\uffff]/.test(text.replace(/\n/g, ''))) return true;
  return text.includes('\n');
}

function scalar(value: string | number | boolean | null, indent: number): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(value);
  if (!needsQuotes(value)) return value;
  const escaped = value.replace(/'/g, "''");
  if (!escaped.includes('\n')) return `'${escaped}'`;
  // PyYAML's single-quoted multi-line style: each line break is written as an empty line, and
  // continuation lines are indented one level deeper than the key.
  const pad = ' '.repeat(indent + 2);
  const lines = escaped.split('\n');
  return `'${lines.map((line, index) => (index === 0 ? line : line === '' ? '' : pad + line)).join('\n\n')}${lines.at(-1) === '' ? pad : ''}'`;
}

function isCollection(value: YamlValue): value is YamlValue[] | { [key: string]: YamlValue } {
  return typeof value === 'object' && value !== null;
}

function isEmpty(value: YamlValue[] | { [key: string]: YamlValue }): boolean {
  return Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
}

function renderMapping(map: { [key: string]: YamlValue }, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  for (const [key, value] of Object.entries(map)) {
    const renderedKey = needsQuotes(key) ? scalar(key, indent) : key;
    if (isCollection(value) && !isEmpty(value)) {
      lines.push(`${pad}${renderedKey}:`);
      // PyYAML puts a list's dashes at the key's column, a mapping's keys one level deeper.
      lines.push(...(Array.isArray(value) ? renderSequence(value, indent) : renderMapping(value, indent + 2)));
    } else {
      const rendered = isCollection(value) ? (Array.isArray(value) ? '[]' : '{}') : scalar(value, indent);
      lines.push(`${pad}${renderedKey}: ${rendered}`);
    }
  }
  return lines;
}

function renderSequence(list: YamlValue[], indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  for (const item of list) {
    if (isCollection(item) && !isEmpty(item)) {
      const inner = Array.isArray(item) ? renderSequence(item, indent + 2) : renderMapping(item, indent + 2);
      const first = (inner[0] ?? '').slice(indent + 2);
      lines.push(`${pad}- ${first}`, ...inner.slice(1));
    } else {
      const rendered = isCollection(item) ? (Array.isArray(item) ? '[]' : '{}') : scalar(item, indent);
      lines.push(`${pad}- ${rendered}`);
    }
  }
  return lines;
}

/** Render a top-level mapping as PyYAML's `safe_dump(sort_keys=False)` would. */
export function pyyamlDump(document: { [key: string]: YamlValue }): string {
  return `${renderMapping(document, 0).join('\n')}\n`;
}
