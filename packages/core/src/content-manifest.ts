import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { KnownDigests } from './file-digests.js';
import type { ItemKind } from './target.js';

/**
 * The content manifest: what a signature covers. One line per fact, UTF-8, `\n`-terminated, in a
 * fixed order, so the same item yields the same bytes in every store and after every format:
 *
 * ```text
 * bentoport-manifest 1
 * bento NAME:VERSION                      (or `model NAME:VERSION` for a model item)
 * file MODE SIZE SHA256 "PATH"           one per regular file of the item, by PATH's UTF-8 bytes
 * model NAME:VERSION                      then, for a bento, each model it uses, by tag
 * file MODE SIZE SHA256 "PATH"           that model's files, PATH relative to the model
 * ```
 *
 * MODE is the permission bits in octal (`0644`; setuid, setgid and sticky are left out, as import strips them), SIZE in bytes, SHA256 in lowercase hex, PATH a
 * JSON string (`/`-separated, relative to the item's directory). Symbolic links are read through,
 * as a format that cannot store links exports them; directories are not listed (an empty one
 * carries no content). A bento's own `models/` directory (legacy layout) is not part of the bento:
 * its models appear as model sections, as they do after an import.
 */
export const MANIFEST_HEADER = 'bentoport-manifest 1';

/** One item's directory, as a section of a manifest. */
export interface ManifestSection {
  kind: ItemKind;
  /** `name:version`. */
  tag: string;
  /** The item's directory. */
  directory: string;
  /** Top-level names to leave out (a bento's own `models/`). */
  exclude?: readonly string[];
}

/** One file line of a manifest. */
export interface ManifestFile {
  path: string;
  mode: number;
  size: number;
  sha256: string;
}

export function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * The order of a manifest's file lines: the order of a walk that sorts each directory's names by
 * their bytes, i.e. path segment by segment (`a/b` before `a-c`, unlike a plain byte sort).
 */
export function byPathSegments(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  for (let index = 0; index < Math.min(left.length, right.length); index++) {
    const order = byBytes(left[index] as string, right[index] as string);
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

/** A section whose files are already listed, in manifest order. */
export interface ListedSection {
  kind: ItemKind;
  tag: string;
  files: readonly ManifestFile[];
}

/** The manifest bytes of listed sections: the item first, then (for a bento) its models in tag order. */
export function manifestOf(sections: readonly ListedSection[]): Buffer {
  const [item, ...models] = sections;
  const ordered = item === undefined ? [] : [item, ...[...models].sort((a, b) => byBytes(a.tag, b.tag))];
  const lines = [MANIFEST_HEADER];
  for (const section of ordered) {
    lines.push(`${section.kind} ${section.tag}`);
    for (const file of section.files) lines.push(fileLine(file));
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/**
 * Files up to this size are read and hashed with one synchronous call: a bento's thousands of
 * small sources would otherwise pay a thread-pool round trip each (open, read, close), several
 * times the hashing itself. Larger ones stream.
 */
const SMALL_FILE_BYTES = 256 * 1024;

async function sha256Of(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  if (size <= SMALL_FILE_BYTES) return hash.update(readFileSync(file)).digest('hex');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** What a walk of one section needs besides the place it is at. */
interface Walk {
  directory: string;
  /** Stops a link cycle: the directories on the way down, by device and inode. */
  seen: Set<string>;
  known: KnownDigests | undefined;
}

/** The digest a pipeline took of `file`'s bytes when it still has that size, else a new read. */
async function digestOf(file: string, size: number, known: KnownDigests | undefined): Promise<string> {
  const taken = known?.get(file);
  return taken !== undefined && taken.size === size ? taken.sha256 : sha256Of(file, size);
}

/** Names of 7-bit characters only, whose UTF-16 order (a plain sort) is their UTF-8 byte order. */
const ASCII_NAME = /^\p{ASCII}*$/u;

/**
 * `names` sorted by their UTF-8 bytes (code points, as Python and GNU tar sort in the C locale),
 * not UTF-16 units; each name is encoded once, and only when one is not ASCII.
 */
export function sortedByBytes(iterable: Iterable<string>): string[] {
  const names = [...iterable];
  if (names.every((name) => ASCII_NAME.test(name))) return names.sort();
  const keyed = names.map((name) => ({ name, bytes: Buffer.from(name) }));
  keyed.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  return keyed.map(({ name }) => name);
}

/**
 * The line of a file the pipeline has just read whole, from its own facts (size, mode, digest),
 * with no stat: for an export's thousands of small sources the stats were most of the manifest's
 * cost. A digest with a mode is only ever recorded for a regular file at that very path (a link
 * read through is recorded under its target's path). Undefined when there is no such digest.
 */
function takenFile(relative: string, absolute: string, known: KnownDigests | undefined): ManifestFile | undefined {
  const taken = known?.get(absolute);
  if (taken?.mode === undefined) return undefined;
  return { path: relative, mode: taken.mode, size: taken.size, sha256: taken.sha256 };
}

/** The files under `walk.directory`, links followed, by path bytes. */
async function listFiles(walk: Walk, relative: string, exclude: readonly string[]): Promise<ManifestFile[]> {
  const { directory, seen } = walk;
  // Synchronous on purpose, as the walk of an export (item-entries.ts): see SMALL_FILE_BYTES.
  const here = path.join(directory, relative);
  const names = readdirSync(here).filter((name) => relative !== '' || !exclude.includes(name));
  const files: ManifestFile[] = [];
  for (const name of sortedByBytes(names)) {
    const childRelative = relative === '' ? name : `${relative}/${name}`;
    // As path.join(here, name) spells it (the key of `known`), without normalising every path.
    const absolute = here.endsWith(path.sep) ? `${here}${name}` : `${here}${path.sep}${name}`;
    const taken = takenFile(childRelative, absolute, walk.known);
    if (taken !== undefined) {
      files.push(taken);
      continue;
    }
    const facts = statSync(absolute);
    if (facts.isDirectory()) {
      const identity = `${facts.dev}:${facts.ino}`;
      if (seen.has(identity)) continue;
      seen.add(identity);
      files.push(...(await listFiles(walk, childRelative, [])));
      seen.delete(identity);
    } else if (facts.isFile()) {
      files.push({ path: childRelative, mode: facts.mode & 0o777, size: facts.size, sha256: await digestOf(absolute, facts.size, walk.known) });
    }
  }
  return files;
}

function fileLine(file: ManifestFile): string {
  return `file ${file.mode.toString(8).padStart(4, '0')} ${file.size} ${file.sha256} ${JSON.stringify(file.path)}`;
}

/**
 * The manifest of `sections`: the item first, then (for a bento) its models in tag order. A file
 * `known` holds a digest of (by absolute path, at its current size) is not read again, and one
 * whose mode it holds too is not even stat'ed: its line is what the pipeline read.
 * @example contentManifest([{ kind: 'bento', tag: 'svc:v1', directory, exclude: ['models'] }])
 */
export async function contentManifest(sections: readonly ManifestSection[], known?: KnownDigests): Promise<Buffer> {
  const listed: ListedSection[] = [];
  for (const section of sections) {
    const root = statSync(section.directory);
    const walk: Walk = { directory: section.directory, seen: new Set([`${root.dev}:${root.ino}`]), known };
    listed.push({ kind: section.kind, tag: section.tag, files: await listFiles(walk, '', section.exclude ?? []) });
  }
  return manifestOf(listed);
}

interface ParsedSection {
  heading: string;
  files: Map<string, string>;
}

function parseManifest(text: string): ParsedSection[] {
  const sections: ParsedSection[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line === MANIFEST_HEADER) continue;
    if (line.startsWith('file ')) {
      const quote = line.indexOf(' "');
      const filePath = quote < 0 ? line : (JSON.parse(line.slice(quote + 1)) as string);
      sections.at(-1)?.files.set(filePath, line.slice(0, quote));
    } else sections.push({ heading: line, files: new Map() });
  }
  return sections;
}

function describeFileChange(signedFacts: string, actualFacts: string): string {
  const [, signedMode, signedSize] = signedFacts.split(' ');
  const [, actualMode, actualSize] = actualFacts.split(' ');
  if (signedSize !== actualSize) return `its size is ${actualSize} bytes, signed ${signedSize}`;
  if (signedMode !== actualMode) return `its mode is ${actualMode}, signed ${signedMode}`;
  return 'its content differs (SHA-256)';
}

/** The first file difference within one section, in path order. */
function sectionDifference(heading: string, signed: Map<string, string>, actual: Map<string, string>): string | undefined {
  const paths = [...new Set([...signed.keys(), ...actual.keys()])].sort(byBytes);
  for (const filePath of paths) {
    const before = signed.get(filePath);
    const after = actual.get(filePath);
    if (before === after) continue;
    if (after === undefined) return `${heading}: ${JSON.stringify(filePath)} is signed but missing`;
    if (before === undefined) return `${heading}: ${JSON.stringify(filePath)} is not in the signed content`;
    return `${heading}: ${JSON.stringify(filePath)}: ${describeFileChange(before, after)}`;
  }
  return undefined;
}

/**
 * The first difference between a signed manifest and the content's, in words, or undefined when
 * they are the same: another item or model, then a missing, extra or changed file, in order.
 */
export function manifestDifference(signed: Buffer | string, actual: Buffer | string): string | undefined {
  const signedSections = parseManifest(signed.toString());
  const actualSections = parseManifest(actual.toString());
  const signedItem = signedSections[0]?.heading;
  const actualItem = actualSections[0]?.heading;
  if (signedItem !== actualItem) return `the signature is for ${signedItem ?? 'nothing'}, not ${actualItem ?? 'nothing'}`;
  const actualByHeading = new Map(actualSections.map((section) => [section.heading, section]));
  const signedHeadings = new Set(signedSections.map((section) => section.heading));
  for (const section of signedSections) {
    const counterpart = actualByHeading.get(section.heading);
    if (counterpart === undefined) return `${section.heading} is signed but not part of this content`;
    const difference = sectionDifference(section.heading, section.files, counterpart.files);
    if (difference !== undefined) return difference;
  }
  const extra = actualSections.find((section) => !signedHeadings.has(section.heading));
  return extra === undefined ? undefined : `${extra.heading} is not in the signed content`;
}
