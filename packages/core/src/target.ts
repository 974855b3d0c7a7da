import path from 'node:path';
import { BentoportError, type Location } from '@bentoport/spec';
import { redact } from '@bentoport/plugin-kit';

/** The kinds of item that can be exported, with BentoML's native extension for each. */
export type ItemKind = 'bento' | 'model';

/** BentoML's native format token (and file extension) per kind: tar+xz. */
export const NATIVE_FORMAT: Record<ItemKind, string> = { bento: 'bento', model: 'bentomodel' };

/** Every format token BentoML knows, and `folder`. */
export const FORMAT_TOKENS = ['bento', 'bentomodel', 'gz', 'xz', 'bz2', 'tar', 'zip', 'folder'] as const;

/** BentoML's extra target fields, for when the path is not a URL. */
export interface TargetOptions {
  /** Protocol for a non-URL path: `s3`, `ftp`, … @default 'file' */
  protocol?: string;
  /** User name (S3: access key id). */
  user?: string;
  /** Password (S3: secret access key). Never printed. */
  passwd?: string;
  /** Extra settings, sent as the URL query. */
  params?: Record<string, string>;
  /** Path inside the resource; with it, the whole `path` is the resource (bucket or host). */
  subpath?: string;
}

/** BentoML's protocol aliases that mean "local file" (`zip://`, `tar://` no longer pick the format). */
const FILE_ALIASES = new Set(['file', 'osfs', 'tar', 'zip']);

/** Python's `posixpath.splitext(p)[1]`: the extension of the last path segment, ignoring leading dots. */
function extensionOf(filePath: string): string {
  const base = filePath.slice(filePath.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0 || /^\.+$/.test(base.slice(0, dot + 1))) return '';
  return base.slice(dot);
}

/**
 * The extensions that pick each non-native format token, as file names carry them. The guess
 * reads only the last one (`.tar.gz` ends in `.gz`); the compound names are there for help texts.
 */
const FORMAT_EXTENSIONS: ReadonlyMap<string, readonly string[]> = new Map([
  ['tar', ['.tar']],
  ['gz', ['.tar.gz', '.gz', '.tgz']],
  ['xz', ['.tar.xz', '.xz']],
  ['bz2', ['.tar.bz2', '.bz2']],
  ['zip', ['.zip']],
]);

/**
 * BentoML's `guess_format`: the extension (case-sensitive) if it is a known token, else native.
 * Deliberate fix: `.tgz` is gzip (BentoML treats it as native xz and renames it `x.tgz.bento`).
 */
export function guessFormat(filePath: string, kind: ItemKind): string {
  const extension = extensionOf(filePath);
  if (extension === `.${NATIVE_FORMAT[kind]}`) return NATIVE_FORMAT[kind];
  for (const [format, extensions] of FORMAT_EXTENSIONS) if (extensions.includes(extension)) return format;
  return NATIVE_FORMAT[kind];
}

/**
 * The file extensions for which {@link guessFormat} picks `format` for an item of `kind`, longest
 * form first (`['.tar.gz', '.gz', '.tgz']` for `gz`); empty for a token no extension picks (the
 * other kind's native format, a third-party format), which `--format` alone selects.
 *
 * @example formatExtensions('xz', 'bento') // ['.tar.xz', '.xz']
 */
export function formatExtensions(format: string, kind: ItemKind): string[] {
  if (format === NATIVE_FORMAT[kind]) return [`.${format}`];
  return [...(FORMAT_EXTENSIONS.get(format) ?? [])];
}

/**
 * Python's `urllib.parse.quote(s, safe='')`. BentoML keeps `/` unquoted (the default `safe='/'`),
 * which breaks the URL when a password holds a slash; we quote it.
 */
function quote(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Python's `urlencode(params)`: `quote_plus` on keys and values. */
function urlencode(params: Record<string, string>): string {
  const plus = (text: string) => encodeURIComponent(text).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return Object.entries(params)
    .map(([key, value]) => `${plus(key)}=${plus(String(value))}`)
    .join('&');
}

interface SplitTarget {
  protocol: string;
  host: string;
  subpath: string;
  query: string;
  isUrl: boolean;
}

/** The first steps of BentoML's target parsing (protocol, user, passwd, params), shared by export and import. */
function splitTarget(target: string, options: TargetOptions, direction: 'output' | 'input'): SplitTarget {
  const isUrl = target.includes('://');
  const extras = [options.protocol, options.user, options.passwd, options.params, options.subpath];
  if (isUrl && extras.some((value) => value !== undefined)) {
    throw new BentoportError(
      'ERR_INVALID_TARGET',
      `An FS URL was passed as the ${direction} path; all additional information should be passed as part of the URL.`,
    );
  }
  if (isUrl) {
    const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/.exec(target);
    if (!match) throw new BentoportError('ERR_INVALID_TARGET', `${redact(target)} is not a valid URL`);
    const [, scheme = '', host = '', subpath = '', query = ''] = match;
    const protocol = scheme.toLowerCase();
    return { protocol: FILE_ALIASES.has(protocol) ? 'file' : protocol, host, subpath, query, isUrl };
  }
  const rawProtocol = (options.protocol ?? 'file').toLowerCase();
  const protocol = FILE_ALIASES.has(rawProtocol) ? 'file' : rawProtocol;
  let userInfo = '';
  if (options.user !== undefined || options.passwd !== undefined) {
    userInfo = quote(options.user ?? '') + (options.passwd !== undefined ? `:${quote(options.passwd)}` : '') + '@';
  }
  const normalised = target.split(path.sep).join('/');
  let resource: string;
  let subpath: string;
  if (options.subpath === undefined) {
    if (protocol === 'file') {
      resource = '';
      subpath = normalised;
    } else {
      const slash = normalised.indexOf('/');
      resource = slash === -1 ? normalised : normalised.slice(0, slash);
      subpath = slash === -1 ? '' : normalised.slice(slash + 1);
    }
  } else {
    resource = normalised;
    subpath = options.subpath;
  }
  return { protocol, host: userInfo + resource, subpath, query: urlencode(options.params ?? {}), isUrl };
}

/** The netloc with any password replaced by `***`. */
function redactHost(host: string): string {
  const at = host.lastIndexOf('@');
  if (at === -1) return host;
  const userInfo = host.slice(0, at);
  const colon = userInfo.indexOf(':');
  return colon === -1 ? host : `${userInfo.slice(0, colon)}:***${host.slice(at)}`;
}

function displayOf(protocol: string, host: string, subpath: string, query: string): string {
  if (protocol === 'file') return subpath;
  const slashPath = subpath === '' || subpath.startsWith('/') ? subpath : `/${subpath}`;
  return redact(`${protocol}://${redactHost(host)}${slashPath}${query ? `?${query}` : ''}`);
}

function toLocation(protocol: string, host: string, subpath: string, query: string, cwd: string): Location {
  // Deliberate fix: a relative local path resolves against the current directory (BentoML ≥1.4.20
  // resolves it against `/`).
  const locationPath =
    protocol === 'file' ? path.resolve(cwd, subpath) : subpath === '' || subpath.startsWith('/') ? subpath : `/${subpath}`;
  return { protocol, host, path: locationPath, query, display: displayOf(protocol, host, locationPath, query) };
}

export interface ResolvedExportTarget {
  location: Location;
  /** The format token to write. */
  format: string;
}

export interface ExportTargetRequest {
  target: string;
  format?: string;
  options?: TargetOptions;
  kind: ItemKind;
  /** Used for the default file name `<name>-<version>.<format>`. */
  name: string;
  version: string;
  /** @default process.cwd() */
  cwd?: string;
  /** Whether a local path is an existing directory (BentoML's `os.path.isdir`). */
  isLocalDirectory(absolutePath: string): Promise<boolean>;
}

/**
 * Resolve an export target exactly as BentoML's `export_bento` does, with the documented fixes: relative
 * paths resolve against `cwd`, and `.tgz` is gzip.
 * @throws {BentoportError} ERR_INVALID_TARGET for a URL given with extra fields or a bad URL.
 */
export async function resolveExportTarget(request: ExportTargetRequest): Promise<ResolvedExportTarget> {
  const cwd = request.cwd ?? process.cwd();
  const split = splitTarget(request.target, request.options ?? {}, 'output');
  let { subpath } = split;
  const native = NATIVE_FORMAT[request.kind];
  const format = request.format ?? guessFormat(subpath, request.kind);
  const isDirectory =
    subpath === '' ||
    subpath.endsWith('/') ||
    (split.protocol === 'file' && (await request.isLocalDirectory(path.resolve(cwd, subpath))));
  if (format !== 'folder' && isDirectory) {
    const fileName = `${request.name}-${request.version}.${format}`;
    subpath = subpath === '' ? fileName : subpath.endsWith('/') ? subpath + fileName : `${subpath}/${fileName}`;
  }
  if (format === 'folder' && !subpath.endsWith('/')) subpath += '/';
  if (format === native && !subpath.endsWith(`.${native}`)) subpath += `.${native}`;
  return { location: toLocation(split.protocol, split.host, subpath, split.query, cwd), format };
}

export interface ResolvedImportSource {
  location: Location;
  /** The format named by the caller, or guessed from the extension. */
  format: string;
  /** True when the caller named the format; a guess yields to the bytes' magic number. */
  explicitFormat: boolean;
}

/**
 * Resolve an import source as BentoML's `import_bento` does, relative paths against `cwd`.
 * @throws {BentoportError} ERR_INVALID_TARGET for a URL given with extra fields or a bad URL.
 */
export function resolveImportSource(
  source: string,
  format: string | undefined,
  options: TargetOptions | undefined,
  kind: ItemKind,
  cwd: string = process.cwd(),
): ResolvedImportSource {
  const split = splitTarget(source, options ?? {}, 'input');
  return {
    location: toLocation(split.protocol, split.host, split.subpath, split.query, cwd),
    format: format ?? guessFormat(split.subpath, kind),
    explicitFormat: format !== undefined,
  };
}

/**
 * A path or URL as a location, with no file name or format implied: a remote store's root.
 * @throws {BentoportError} ERR_INVALID_TARGET for a bad URL.
 */
export function resolveLocation(target: string, cwd: string = process.cwd()): Location {
  const split = splitTarget(target, {}, 'input');
  return toLocation(split.protocol, split.host, split.subpath, split.query, cwd);
}
