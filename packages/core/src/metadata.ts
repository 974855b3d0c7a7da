import type { Document } from 'yaml';
import { type BentoModelReference, BentoportError, type ItemMetadata } from '@bentoport/spec';
import { mappingEntries, parsePyYaml, pythonStr } from './pyyaml-scalars.js';
import { formatTag, makeTag, type Tag } from './tag.js';

export type { BentoModelReference, ItemMetadata } from '@bentoport/spec';

const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?\s*(Z|[+-]\d{2}:?\d{2}(?::?\d{2})?)?$/i;

/**
 * Parse an ISO-8601 time as Python's `datetime.fromisoformat` accepts it, into microseconds since
 * the epoch. A naive time (no offset) is taken as UTC: BentoML always writes UTC, and comparing
 * naive with aware times must not depend on the machine's time zone.
 * Returns undefined when the text is not such a time.
 */
export function parseCreationTime(text: string): number | undefined {
  const match = ISO_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', offset] = match;
  const millis = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(millis)) return undefined;
  let micros = millis * 1000 + Number(fraction.padEnd(6, '0') || '0');
  if (offset && offset.toUpperCase() !== 'Z') {
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(/:/g, '');
    const offsetSeconds =
      Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4)) * 60 + Number(digits.slice(4, 6) || '0');
    micros -= sign * offsetSeconds * 1_000_000;
  }
  return micros;
}

function invalid(file: string, problem: string): BentoportError {
  return new BentoportError('ERR_INVALID_METADATA', `${file}: ${problem}`);
}

/** A yaml file as BentoML loads it: the plain document, and the nodes that keep each scalar's source. */
interface LoadedYaml {
  file: string;
  document: Record<string, unknown>;
  nodes: Document.Parsed;
}

/**
 * A tag part (name, version). BentoML lower-cases it with `str.lower()`, so anything PyYAML did
 * not read as a string is refused there: say which type it became and how to keep it a string.
 */
function requireTagString(document: Record<string, unknown>, key: string, file: string): string {
  const value = document[key];
  if (value === undefined || value === null) throw invalid(file, `missing required field '${key}'`);
  if (typeof value !== 'string') {
    throw invalid(file, `field '${key}' must be a string, not ${typeName(value)} (BentoML's YAML loader reads the unquoted value as one; quote it)`);
  }
  return value;
}

/**
 * A field BentoML types `str`: cattrs structures it with Python's `str()`, so any scalar is
 * accepted (`None` for null, `True`, `1.0`, `15` for `017`). A mapping or list is refused: its
 * Python text is no name anyone means.
 */
function stringField(loaded: LoadedYaml, path: (string | number)[], label: string): string {
  const text = pythonStr(loaded.nodes.getIn(path, true), loaded.nodes);
  if (text === undefined) throw invalid(loaded.file, `field '${label}' must be a string`);
  return text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a timestamp';
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** The creation_time of a document; YAML may have turned an unquoted time into a Date. */
function creationTimeOf(value: unknown, file: string, field: string): { micros: number; text: string } {
  if (value instanceof Date) return { micros: value.getTime() * 1000, text: value.toISOString() };
  if (typeof value === 'string') {
    const micros = parseCreationTime(value);
    if (micros !== undefined) return { micros, text: value };
  }
  throw invalid(file, `field '${field}' must be an ISO-8601 time, not ${JSON.stringify(value)}`);
}

/** Keys BentoML's spec-1 option classes accept; anything else makes BentoML fail to load the bento. */
const SPEC1_OPTION_KEYS: Record<string, readonly string[]> = {
  docker: ['distro', 'python_version', 'cuda_version', 'env', 'system_packages', 'setup_script', 'base_image', 'dockerfile_template'],
  python: [
    'requirements_txt', 'packages', 'lock_packages', 'pack_git_packages', 'index_url', 'no_index', 'trusted_host',
    'find_links', 'extra_index_url', 'pip_args', 'wheels', 'is_src_layout',
  ],
  conda: ['environment_yml', 'channels', 'dependencies', 'pip'],
};

function parseModelReference(loaded: LoadedYaml, path: (string | number)[], value: unknown, index: string): BentoModelReference {
  const { file } = loaded;
  // Legacy bentos list models as bare tag strings (BentoML converts them on load).
  if (typeof value === 'string') {
    return { tag: versionedTag(value, file, index), registry: 'bentoml', module: 'unknown' };
  }
  if (!isMapping(value)) throw invalid(file, `${index} must be a tag string or a mapping`);
  if (typeof value.tag !== 'string') throw invalid(file, `${index} is missing its 'tag'`);
  // registry (`str`, default 'bentoml') and module (`Optional[str]`) go through Python's str() when present.
  const registry = value.registry === undefined ? 'bentoml' : stringField(loaded, [...path, 'registry'], `${index}.registry`);
  const module = value.module === undefined || value.module === null ? null : stringField(loaded, [...path, 'module'], `${index}.module`);
  return { tag: versionedTag(value.tag, file, `${index}.tag`), registry, module };
}

function versionedTag(text: string, file: string, field: string): Tag & { version: string } {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) throw invalid(file, `${field} '${text}' must be name:version`);
  try {
    return makeTag(text.slice(0, colon), text.slice(colon + 1)) as Tag & { version: string };
  } catch (error) {
    throw new BentoportError('ERR_INVALID_METADATA', `${file}: ${field} '${text}' is not a valid tag`, {
      cause: error,
    });
  }
}

function loadYaml(text: string, file: string): LoadedYaml {
  let nodes: Document.Parsed;
  let document: unknown;
  try {
    // BentoML reads with PyYAML's safe_load: YAML 1.1 and PyYAML's own implicit types.
    nodes = parsePyYaml(text);
    document = nodes.toJS();
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new BentoportError('ERR_INVALID_METADATA', `${file} is not valid YAML: ${reason}`, { cause: error });
  }
  if (!isMapping(document)) throw new BentoportError('ERR_INVALID_METADATA', `${file} is malformed: it must be a mapping`);
  return { file, document, nodes };
}

/** labels: BentoML keeps `{str(key): str(value)}` (with a warning for non-string values). */
function labelsOf(loaded: LoadedYaml): Record<string, string> {
  const { document, file, nodes } = loaded;
  const labels = document.labels;
  if (labels === undefined || labels === null) return {};
  const entries = mappingEntries(nodes.get('labels', true), nodes);
  if (!isMapping(labels) || entries === undefined) throw invalid(file, `field 'labels' must be a mapping, not ${typeName(labels)}`);
  const result: Record<string, string> = {};
  for (const { key, value } of entries) {
    if (key === undefined) throw invalid(file, `field 'labels' must have scalar keys`);
    // A list or mapping value: Python would print its repr; JSON is the nearest we print.
    result[key] = pythonStr(value, nodes) ?? JSON.stringify((labels as Record<string, unknown>)[key] ?? null);
  }
  return result;
}

function itemTag({ document, file }: LoadedYaml): Tag & { version: string } {
  const name = requireTagString(document, 'name', file);
  const version = requireTagString(document, 'version', file);
  try {
    return makeTag(name, version) as Tag & { version: string };
  } catch (error) {
    throw new BentoportError(
      'ERR_INVALID_METADATA',
      `${file}: name/version '${name}:${version}' is not a valid BentoML tag (${(error as Error).message})`,
      { cause: error },
    );
  }
}

/**
 * Parse and validate a bento.yaml as BentoML loads it (spec 1 and 2, legacy model lists).
 * @throws {BentoportError} ERR_INVALID_METADATA naming the missing or wrong field.
 */
export function parseBentoYaml(text: string): ItemMetadata {
  const loaded = loadYaml(text, 'bento.yaml');
  const { document, file } = loaded;
  const tag = itemTag(loaded);
  if (document.service === undefined) throw invalid(file, `missing required field 'service'`);
  const service = stringField(loaded, ['service'], 'service');
  const time = document.creation_time === undefined ? undefined : creationTimeOf(document.creation_time, file, 'creation_time');
  if (document.spec !== 2) {
    for (const [section, allowed] of Object.entries(SPEC1_OPTION_KEYS)) {
      const options = document[section];
      if (options === undefined || options === null) continue;
      if (!isMapping(options)) throw invalid(file, `field '${section}' must be a mapping`);
      const extra = Object.keys(options).find((key) => !allowed.includes(key));
      if (extra !== undefined) throw invalid(file, `unknown key '${section}.${extra}' (BentoML refuses to load it)`);
    }
  }
  const byTag = new Map<string, BentoModelReference>();
  const topModels = document.models ?? [];
  if (!Array.isArray(topModels)) throw invalid(file, `field 'models' must be a list`);
  topModels.forEach((value, index) => {
    const reference = parseModelReference(loaded, ['models', index], value, `models[${index}]`);
    byTag.set(formatTag(reference.tag), reference);
  });
  const services = document.services ?? [];
  if (!Array.isArray(services)) throw invalid(file, `field 'services' must be a list`);
  services.forEach((serviceInfo, serviceIndex) => {
    if (!isMapping(serviceInfo)) throw invalid(file, `services[${serviceIndex}] must be a mapping`);
    const models = serviceInfo.models ?? [];
    if (!Array.isArray(models)) throw invalid(file, `services[${serviceIndex}].models must be a list`);
    models.forEach((value, index) => {
      // services[].models win over top-level entries of the same tag, as in BentoML's all_models.
      const reference = parseModelReference(loaded, ['services', serviceIndex, 'models', index], value, `services[${serviceIndex}].models[${index}]`);
      byTag.set(formatTag(reference.tag), reference);
    });
  });
  return {
    kind: 'bento',
    tag,
    // BentoML defaults a missing creation_time to "now"; the epoch keeps ordering deterministic.
    creationTime: time?.micros ?? 0,
    creationTimeText: time?.text ?? '',
    models: [...byTag.values()],
    labels: labelsOf(loaded),
    module: service,
    document,
  };
}

/**
 * Parse and validate a model.yaml as BentoML loads it.
 * @throws {BentoportError} ERR_INVALID_METADATA naming the missing or wrong field.
 */
export function parseModelYaml(text: string): ItemMetadata {
  const loaded = loadYaml(text, 'model.yaml');
  const { document, file } = loaded;
  const tag = itemTag(loaded);
  // module is a `str` field: Python's str() of whatever PyYAML read (a missing one stays unknown).
  const module = document.module === undefined ? null : stringField(loaded, ['module'], 'module');
  const time =
    document.creation_time === undefined
      ? { micros: 0, text: '' }
      : creationTimeOf(document.creation_time, file, 'creation_time');
  if (document.signatures !== undefined && document.signatures !== null && !isMapping(document.signatures)) {
    throw invalid(file, `field 'signatures' must be a mapping`);
  }
  return {
    kind: 'model',
    tag,
    creationTime: time.micros,
    creationTimeText: time.text,
    models: [],
    labels: labelsOf(loaded),
    module,
    document,
  };
}
