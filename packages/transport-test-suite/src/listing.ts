import { isBentoportError, type Location, type Transport } from '@bentoport/spec';

/**
 * The names in a directory, or none when the transport has no `list` or the directory does not
 * exist yet (object stores have no empty directories).
 */
export async function entryNames(transport: Transport, directory: Location): Promise<Set<string>> {
  if (!transport.capabilities.list || typeof transport.list !== 'function') return new Set();
  try {
    return new Set((await transport.list(directory)).map((entry) => entry.name));
  } catch (error) {
    if (isBentoportError(error, 'ERR_NOT_FOUND')) return new Set();
    throw error;
  }
}

/** Names present in `after` but not in `before`. */
export function addedNames(before: Set<string>, after: Set<string>): string[] {
  return [...after].filter((name) => !before.has(name));
}
