import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { BentoportError } from '@bentoport/spec';

/**
 * The mapping in bentoport's yaml config file (`registry:`, `plugins:`), or undefined when the
 * file does not exist or is empty.
 * @throws {BentoportError} ERR_INVALID_OPTION when it is not valid yaml or not a mapping.
 */
export async function readConfigFile(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new BentoportError('ERR_INVALID_OPTION', `${file} is not valid yaml: ${(error as Error).message}`, { cause: error });
  }
  if (document === null || document === undefined) return undefined;
  if (typeof document !== 'object' || Array.isArray(document)) throw new BentoportError('ERR_INVALID_OPTION', `${file} must be a yaml mapping`);
  return document as Record<string, unknown>;
}
