import path from 'node:path';

/** The conditions an ESM import under Node matches, in the sense of package.json `exports`. */
const CONDITIONS = new Set(['import', 'node', 'default']);

/** The target a conditional `exports` value resolves to for an ESM import, or undefined. */
function conditionalTarget(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const candidate of value) {
      const target = conditionalTarget(candidate);
      if (target !== undefined) return target;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  // As Node: the first key, in the object's order, that is an active condition.
  for (const [condition, nested] of Object.entries(value)) {
    if (!CONDITIONS.has(condition)) continue;
    const target = conditionalTarget(nested);
    if (target !== undefined) return target;
  }
  return undefined;
}

/** The `"."` entry of an `exports` field: a bare target, a conditions object, or a subpath map. */
function mainExport(exportsField: unknown): unknown {
  if (typeof exportsField !== 'object' || exportsField === null || Array.isArray(exportsField)) return exportsField;
  const keys = Object.keys(exportsField);
  if (keys.some((key) => key.startsWith('.'))) return (exportsField as Record<string, unknown>)['.'];
  return exportsField;
}

/**
 * The file `import('<package>')` loads, from the package's directory and package.json: `exports`
 * (the `.` entry, conditions `import`, `node`, `default`), else `main`, else `index.js`. A plugin is
 * imported by this path because it may live outside every node_modules the CLI itself resolves
 * from (a global install beside the CLI, a directory listed in the config file).
 * @throws {TypeError} when `exports` has no entry an ESM import can load.
 */
export function packageEntry(directory: string, packageJson: Record<string, unknown>): string {
  if (packageJson.exports !== undefined) {
    const target = conditionalTarget(mainExport(packageJson.exports));
    if (target === undefined || !target.startsWith('./')) {
      throw new TypeError(`${path.join(directory, 'package.json')}: "exports" has no "." entry for import (conditions import, node or default)`);
    }
    return path.join(directory, target);
  }
  return path.join(directory, typeof packageJson.main === 'string' ? packageJson.main : 'index.js');
}
