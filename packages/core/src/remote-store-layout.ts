import path from 'node:path';
import { BentoportError, type Location } from '@bentoport/spec';
import { formatExtensions, NATIVE_FORMAT, resolveLocation, type ItemKind } from './target.js';

/**
 * Where a remote store keeps what (documented in docs/remote-stores.md):
 *
 *   <root>/bentoport-index.json                       written last, by a two-phase write
 *   <root>/models/<name>/<version>.bentomodel         each model once
 *   <root>/models/<name>/<version>.bentomodel.sha256  sha256sum line, written after the archive
 *   <root>/models/<name>/<version>.bentomodel.sig     when the item is signed
 *   <root>/bentos/<name>/<version>.bento              a bento without its models
 *   <root>/bentos/<name>/<version>.bento.sha256 / .sig
 *
 * With another `format`, the archive's extension is that format's (`.tar.gz` for `gz`).
 */

/** The index's file name under the store's root. */
export const INDEX_NAME = 'bentoport-index.json';
/** The sidecar that marks an archive as arrived and verified. */
export const CHECKSUM_SUFFIX = '.sha256';
export const SIGNATURE_SUFFIX = '.sig';
/** The top-level directory of each kind. */
export const KIND_DIRECTORY: Record<ItemKind, string> = { bento: 'bentos', model: 'models' };

/** The store's root, as a directory location (its path ends in `/` for URLs). */
export function storeRootLocation(url: string, cwd: string): Location {
  const resolved = resolveLocation(url, cwd);
  if (resolved.query !== '') {
    throw new BentoportError('ERR_INVALID_TARGET', `${resolved.display}: a remote store URL takes no query string (its items are addressed by path)`);
  }
  if (resolved.protocol === 'file') return resolved;
  const withSlash = resolved.path.endsWith('/') ? resolved.path : `${resolved.path}/`;
  return { ...resolved, path: withSlash, display: resolved.display.endsWith('/') ? resolved.display : `${resolved.display}/` };
}

/** A location under the store's root, by a relative POSIX path. */
export function childLocation(root: Location, relative: string): Location {
  if (root.protocol === 'file') {
    const full = path.join(root.path, ...relative.split('/'));
    return { ...root, path: full, display: full };
  }
  const base = root.path.endsWith('/') ? root.path : `${root.path}/`;
  const display = root.display.endsWith('/') ? root.display : `${root.display}/`;
  return { ...root, path: `${base}${relative}`, display: `${display}${relative}` };
}

/** The archive extension for items of `kind` in `format`: `.bento`, `.bentomodel`, `.tar.gz`. */
export function archiveExtension(kind: ItemKind, format: string): string {
  const extension = formatExtensions(format, kind)[0];
  if (extension === undefined) throw new BentoportError('ERR_UNSUPPORTED_FORMAT', `format '${format}' has no file extension for a ${kind}; a remote store needs one`);
  return extension;
}

/** `models/<name>/<version>.bentomodel`, relative to the root. */
export function archivePath(kind: ItemKind, name: string, version: string, format: string = NATIVE_FORMAT[kind]): string {
  return `${KIND_DIRECTORY[kind]}/${name}/${version}${archiveExtension(kind, format)}`;
}

/** The parts of an archive's path, or undefined for anything else (a sidecar, a stray file). */
export interface ArchiveName {
  kind: ItemKind;
  name: string;
  version: string;
  format: string;
}

/** Tell an archive's kind, tag and format from its relative path, for stores without an index. */
export function parseArchivePath(relative: string, formats: readonly string[]): ArchiveName | undefined {
  const parts = relative.split('/');
  if (parts.length !== 3) return undefined;
  const [directory = '', name = '', file = ''] = parts;
  const kind = (Object.keys(KIND_DIRECTORY) as ItemKind[]).find((candidate) => KIND_DIRECTORY[candidate] === directory);
  if (!kind) return undefined;
  const candidates = [NATIVE_FORMAT[kind], ...formats.filter((format) => format !== NATIVE_FORMAT[kind])];
  for (const format of candidates) {
    for (const extension of formatExtensions(format, kind)) {
      if (file.endsWith(extension) && file.length > extension.length) return { kind, name, version: file.slice(0, -extension.length), format };
    }
  }
  return undefined;
}
