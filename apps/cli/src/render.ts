import { readsAsNonString } from '@bentoport/core';

/** BentoML's `human_readable_size`: two decimals, binary units. */
export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${size.toFixed(2)} ${units[unit]}`;
}

/** BentoML's list time: local time as `%Y-%m-%d %H:%M:%S`. */
export function localTime(microseconds: number): string {
  const date = new Date(Math.floor(microseconds / 1000));
  const two = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** A borderless table like rich's `Table(box=None)`: left-aligned columns two spaces apart. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Quote a string the way PyYAML does when it would otherwise read back as another type. */
function yamlScalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = String(value);
  const plain =
    text !== '' &&
    !/^[,[\]{}#&*!|>'"%@`\s]/.test(text) &&
    // `-`, `?` and `:` start a plain scalar when a non-space follows, as PyYAML's emitter allows.
    !/^[-?:](?:\s|$)/.test(text) &&
    !/: | #|:$|\s$|\n/.test(text) &&
    // PyYAML's own resolver decides: `0x1F`, `1:30`, `.inf` must be quoted, `1e1` need not be.
    !readsAsNonString(text);
  return plain ? text : `'${text.replace(/'/g, "''")}'`;
}

/** `yaml.safe_dump(rows, indent=2)` for a list of flat records: keys sorted, as BentoML's `list -o yaml`. */
export function renderYamlList(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '[]\n';
  const lines: string[] = [];
  for (const row of rows) {
    Object.keys(row)
      .sort()
      .forEach((key, index) => lines.push(`${index === 0 ? '- ' : '  '}${key}: ${yamlScalar(row[key])}`));
  }
  return lines.join('\n') + '\n';
}

/**
 * A listing as `list -o table|json|yaml` prints it, the same for the local store and a registry:
 * the table has BentoML's columns (`Tag, Size, Model Size, Creation Time` for bentos, `Tag,
 * Module, Size, Creation Time` for models); json and yaml carry every key of the rows.
 */
export function renderListing(output: 'table' | 'json' | 'yaml', type: 'Bento' | 'Model', rows: Record<string, unknown>[]): string {
  if (output === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  if (output === 'yaml') return renderYamlList(rows);
  const cells = (keys: string[]) => rows.map((row) => keys.map((key) => String(row[key] ?? '')));
  return type === 'Model'
    ? renderTable(['Tag', 'Module', 'Size', 'Creation Time'], cells(['tag', 'module', 'size', 'creation_time']))
    : renderTable(['Tag', 'Size', 'Model Size', 'Creation Time'], cells(['tag', 'size', 'model_size', 'creation_time']));
}
