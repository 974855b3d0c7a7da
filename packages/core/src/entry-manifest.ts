import { createHash } from 'node:crypto';
import path from 'node:path';
import { BentoportError, type ArchiveEntry, type ItemMetadata } from '@bentoport/spec';
import { byPathSegments, manifestOf, type ListedSection, type ManifestFile } from './content-manifest.js';
import { parseBentoYaml, parseModelYaml } from './metadata.js';
import { normaliseEntryPath } from './safe-extract.js';
import { formatTag } from './tag.js';
import type { ItemKind } from './target.js';

/**
 * The content manifest of an archive, from its decoded entries, without writing a file: each
 * body is hashed as it streams past, and only digests are kept. It is the manifest the same
 * item would have once imported (a bento's `models/<name>/<version>/` become model sections,
 * links are read through, `models/<name>/latest` is not content), so `verify ARCHIVE` checks
 * what `import` would install.
 */

/** Item yaml bodies are kept to read the tag and the models; anything larger is not a yaml. */
const YAML_MAX_BYTES = 16 * 1024 * 1024;

interface EntryFacts {
  files: Map<string, ManifestFile>;
  /** Symbolic links: path → target as stored. */
  links: Map<string, string>;
  yaml?: string;
}

async function digestBody(entry: ArchiveEntry, keep: boolean): Promise<{ size: number; sha256: string; text?: string }> {
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let size = 0;
  const body = entry.open?.();
  if (body) {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      if (keep && size <= YAML_MAX_BYTES) kept.push(chunk);
    }
  }
  return { size, sha256: hash.digest('hex'), ...(keep ? { text: Buffer.concat(kept).toString('utf8') } : {}) };
}

async function gatherEntries(entries: AsyncIterable<ArchiveEntry>, yamlName: string): Promise<EntryFacts> {
  const facts: EntryFacts = { files: new Map(), links: new Map() };
  for await (const entry of entries) {
    const entryPath = normaliseEntryPath(entry.path);
    if (entry.type === 'file') {
      const body = await digestBody(entry, entryPath === yamlName);
      facts.files.set(entryPath, { path: entryPath, mode: entry.mode & 0o777, size: body.size, sha256: body.sha256 });
      if (body.text !== undefined) facts.yaml = body.text;
    } else {
      entry.open?.().resume();
      if (entry.type === 'symlink' && entry.linkTarget !== undefined) facts.links.set(entryPath, entry.linkTarget);
      if (entry.type === 'hardlink' && entry.linkTarget !== undefined) {
        const target = facts.files.get(normaliseEntryPath(entry.linkTarget));
        if (target) facts.files.set(entryPath, { ...target, path: entryPath });
      }
    }
  }
  return facts;
}

/** Links read through, as the walk of a store item does: a link to a file, or to a directory's files. */
function readThroughLinks(facts: EntryFacts): void {
  for (const [linkPath, target] of facts.links) {
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(linkPath), target));
    const file = facts.files.get(resolved);
    if (file) {
      facts.files.set(linkPath, { ...file, path: linkPath });
      continue;
    }
    for (const [filePath, inside] of [...facts.files]) {
      if (filePath.startsWith(`${resolved}/`)) {
        const aliased = `${linkPath}/${filePath.slice(resolved.length + 1)}`;
        facts.files.set(aliased, { ...inside, path: aliased });
      }
    }
  }
}

/** The files a section holds, in manifest order. */
function inOrder(files: ManifestFile[]): ManifestFile[] {
  return files.sort((a, b) => byPathSegments(a.path, b.path));
}

/** The files under `prefix`, relative to it. */
function filesUnder(files: Map<string, ManifestFile>, prefix: string): ManifestFile[] {
  return [...files.values()].filter((file) => file.path.startsWith(`${prefix}/`)).map((file) => ({ ...file, path: file.path.slice(prefix.length + 1) }));
}

/** The item's own files: a bento's `models/` is its models' sections, not the bento's. */
function itemFiles(files: Map<string, ManifestFile>, kind: ItemKind): ManifestFile[] {
  const all = [...files.values()];
  return kind === 'bento' ? all.filter((file) => file.path !== 'models' && !file.path.startsWith('models/')) : all;
}

/**
 * The content manifest of the item in `entries`, and its yaml's metadata.
 * @throws {BentoportError} ERR_INVALID_METADATA when the archive has no item yaml.
 */
export async function entriesManifest(entries: AsyncIterable<ArchiveEntry>, kind: ItemKind, where: string): Promise<{ manifest: Buffer; metadata: ItemMetadata }> {
  const yamlName = kind === 'bento' ? 'bento.yaml' : 'model.yaml';
  const facts = await gatherEntries(entries, yamlName);
  if (facts.yaml === undefined) throw new BentoportError('ERR_INVALID_METADATA', `${where} has no ${yamlName}: it is not a ${kind} archive`);
  const metadata = kind === 'bento' ? parseBentoYaml(facts.yaml) : parseModelYaml(facts.yaml);
  readThroughLinks(facts);
  const sections: ListedSection[] = [{ kind, tag: formatTag(metadata.tag), files: inOrder(itemFiles(facts.files, kind)) }];
  for (const reference of kind === 'bento' ? metadata.models : []) {
    if (reference.registry !== 'bentoml') continue;
    const prefix = `models/${reference.tag.name}/${reference.tag.version}`;
    const files = inOrder(filesUnder(facts.files, prefix));
    // A model the archive does not carry is left out, so the verification names it.
    if (files.length > 0) sections.push({ kind: 'model', tag: formatTag(reference.tag), files });
  }
  return { manifest: manifestOf(sections), metadata };
}
