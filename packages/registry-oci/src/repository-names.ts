import { BentoportError } from '@bentoport/spec';

/**
 * OCI path components (distribution spec): `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`. BentoML names are
 * `[a-z0-9]([-._a-z0-9]*[a-z0-9])?` after lower-casing, so only their separator runs can be out of
 * bounds (`a._b`, `a..b`, `a___b`, `a-.b`).
 */
const OCI_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
/** Separator runs kept as they are. Three or more dashes are reserved for escapes. */
const KEPT_SEPARATORS = new Set(['.', '_', '__', '-', '--']);
const ESCAPE = /---([0-9a-f]+)---/g;

/**
 * A BentoML name as one OCI repository path component, reversibly: every run of separators
 * (`.`, `_`, `-`) that is not `.`, `_`, `__`, `-` or `--` becomes `---<hex of its bytes>---`,
 * so `a._b` → `a---2e5f---b` and `a---b` → `a---2d2d2d---b`. A triple dash therefore only ever
 * opens or closes an escape, which makes {@link unescapeName} exact.
 */
export function escapeName(name: string): string {
  return name.replace(/[-._]+/g, (run) => (KEPT_SEPARATORS.has(run) ? run : `---${Buffer.from(run).toString('hex')}---`));
}

/** The BentoML name of an escaped repository component. */
export function unescapeName(component: string): string {
  return component.replace(ESCAPE, (_whole, hex: string) => Buffer.from(hex, 'hex').toString());
}

/** True when `text` is a valid OCI repository path component. */
export function isOciComponent(text: string): boolean {
  return OCI_COMPONENT.test(text);
}

/**
 * The repository of an item: `<repository>/<name>` for a bento, `<repository>/models/<name>` for
 * a model, so a bento and a model of one name never share a repository.
 */
export function itemRepository(repository: string, kind: 'bento' | 'model', name: string): string {
  const component = escapeName(name);
  // An empty prefix (oci://HOST, or docker-style HOST/NAME:VERSION) puts items at the registry's root.
  const base = repository === '' ? '' : `${repository}/`;
  return kind === 'bento' ? `${base}${component}` : `${base}models/${component}`;
}

/** Check the repository prefix of a registry URL: lower-case path components separated by `/`, or none. */
export function checkRepositoryPrefix(repository: string, display: string): void {
  if (repository !== '' && !repository.split('/').every((component) => isOciComponent(component))) {
    throw new BentoportError(
      'ERR_INVALID_TARGET',
      `[registry-oci] ${display}: '${repository}' is not a valid OCI repository path (lower-case letters, digits and single separators, e.g. oci://ghcr.io/team/bentos)`,
    );
  }
}
