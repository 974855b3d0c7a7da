import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { BentoportError } from '@bentoport/spec';

/** One entry of a bentofile's `models:` list. */
export interface BentofileModel {
  /** `name` or `name:version`, as written (a bare name means the latest version). */
  tag: string;
  /** BentoCloud's list query BentoML sends when it resolves the latest version; kept for the caller to report. */
  filter?: string;
}

/**
 * The entries of `models:` in a bentofile, as BentoML's `models pull -F` reads them: each a tag
 * string, or a mapping with `tag` (and optionally `filter` and `alias`). An absent or empty
 * `models:` gives an empty list.
 * @throws {BentoportError} ERR_NOT_FOUND when the file cannot be read, ERR_INVALID_OPTION when it
 * is not yaml or an entry is neither a tag nor a mapping with a `tag` string.
 * @example
 * ```ts
 * for (const model of await readBentofileModels('bentofile.yaml')) await bentoport.pullModel(model.tag);
 * ```
 */
export async function readBentofileModels(file: string): Promise<BentofileModel[]> {
  const document = parseBentofile(file, await readBentofileText(file));
  const models = document?.models ?? [];
  if (!Array.isArray(models)) throw new BentoportError('ERR_INVALID_OPTION', `${file}: 'models' must be a list`);
  return models.map((entry, index) => bentofileModel(file, entry, index));
}

async function readBentofileText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new BentoportError('ERR_NOT_FOUND', `bentofile ${file} cannot be read: ${(error as Error).message}`, { cause: error });
  }
}

function parseBentofile(file: string, text: string): { models?: unknown } | undefined {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new BentoportError('ERR_INVALID_OPTION', `${file} is not valid yaml: ${(error as Error).message}`, { cause: error });
  }
  if (document === null || document === undefined) return undefined;
  if (typeof document !== 'object' || Array.isArray(document)) throw new BentoportError('ERR_INVALID_OPTION', `${file} must be a yaml mapping`);
  return document as { models?: unknown };
}

function bentofileModel(file: string, entry: unknown, index: number): BentofileModel {
  if (typeof entry === 'string') return { tag: entry };
  const mapping = typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? (entry as Record<string, unknown>) : undefined;
  if (mapping === undefined || typeof mapping.tag !== 'string') {
    throw new BentoportError('ERR_INVALID_OPTION', `${file}: models[${index}] must be a tag or a mapping with a 'tag'`);
  }
  return typeof mapping.filter === 'string' ? { tag: mapping.tag, filter: mapping.filter } : { tag: mapping.tag };
}
