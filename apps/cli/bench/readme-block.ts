/**
 * The README's benchmark figures live between two HTML comments and are only ever written by
 * `pnpm bench:readme` (BENCH_README=1): a figure typed by hand cannot be traced to a run, and the
 * issue that asked for this found every hand-typed ratio off by a factor of two or more.
 */

/** Opening marker of the generated block. */
export const BENCH_BLOCK_START = '<!-- bench:start -->';
/** Closing marker of the generated block. */
export const BENCH_BLOCK_END = '<!-- bench:end -->';

/** The markers that delimit a generated block. */
export interface BlockMarkers {
  /** @default BENCH_BLOCK_START */
  start: string;
  /** @default BENCH_BLOCK_END */
  end: string;
}

const DEFAULT_MARKERS: BlockMarkers = { start: BENCH_BLOCK_START, end: BENCH_BLOCK_END };

/** Every offset at which `needle` occurs in `text`. */
function occurrences(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) found.push(at);
  return found;
}

/** The single offset of a marker; a missing or repeated one would make the rewrite ambiguous. */
function singleOffset(document: string, marker: string, documentName: string): number {
  const found = occurrences(document, marker);
  if (found.length === 0) throw new Error(`${documentName} has no ${marker} marker: add it where the generated block belongs`);
  if (found.length > 1) throw new Error(`${documentName} has ${found.length} ${marker} markers: keep exactly one`);
  return found[0] as number;
}

/**
 * Returns `document` with everything between the start and end markers replaced by `block`
 * (the markers themselves stay, each on its own line). Pure: the caller reads and writes files.
 * @throws Error when a marker is missing or repeated, or the end marker comes before the start.
 * @example
 * replaceMarkedBlock('a\n<!-- bench:start -->\nold\n<!-- bench:end -->\nb', '| new |')
 * // 'a\n<!-- bench:start -->\n| new |\n<!-- bench:end -->\nb'
 */
export function replaceMarkedBlock(document: string, block: string, documentName = 'the document', markers: BlockMarkers = DEFAULT_MARKERS): string {
  const start = singleOffset(document, markers.start, documentName);
  const end = singleOffset(document, markers.end, documentName);
  if (end < start) throw new Error(`${documentName}: ${markers.end} comes before ${markers.start}`);
  const body = block.trim();
  const inner = body === '' ? '\n' : `\n${body}\n`;
  return document.slice(0, start + markers.start.length) + inner + document.slice(end);
}
