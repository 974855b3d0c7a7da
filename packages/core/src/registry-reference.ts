import { BentoportError } from '@bentoport/spec';
import { redact } from '@bentoport/plugin-kit';

/** A host name or IP address with an optional port, the first component of a docker-style reference. */
const HOST = /^(?:localhost|\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::\d{1,5})?$/i;

/** What a path looks like: absolute, relative to `.`/`..`, or under `~`. */
const PATH_LIKE = /^(?:\/|\.\.?(?:\/|$)|~)/;

/**
 * Docker's rule for the first component of an image reference: it names a registry host when it
 * contains a `.` or a `:` (a port), or is `localhost`; otherwise it would be a Docker Hub
 * namespace, which bentoport does not guess.
 */
function isRegistryHost(component: string): boolean {
  return HOST.test(component) && (component.includes('.') || component.includes(':') || component.toLowerCase() === 'localhost');
}

/**
 * Whether `text` is a docker-style registry address, `HOST[:PORT][/PATH…]` without a scheme: it
 * does not look like a path (`/…`, `./…`, `../…`, `~…`) and its first component is a host by
 * Docker's rule. `bentocloud` never is one, and {@link itemReference} reads a push or pull
 * argument as a reference only when it has a `/`, which a BentoML tag never has.
 */
export function isDockerStyleReference(text: string): boolean {
  if (text.includes('://') || PATH_LIKE.test(text)) return false;
  return isRegistryHost(text.split('/')[0] as string);
}

/**
 * A registry address as `--registry`, `BENTOPORT_REGISTRY` and `registry:` take it, as a URL a
 * registry plugin serves. In this order:
 * 1. a URL with a scheme (`oci://…`, `bentocloud://CONTEXT`): unchanged;
 * 2. a path (`/x`, `./x`, `../x`, `~/x`): refused;
 * 3. docker-style, `HOST[:PORT][/REPOSITORY]` where HOST has a dot or a port or is `localhost`:
 *    `oci://HOST[:PORT][/REPOSITORY]`;
 * 4. a bare word (`bentocloud`): unchanged, the scheme of a registry plugin;
 * 5. anything else (`acme/bentos`, a Docker Hub namespace): refused, since bentoport does not guess a host.
 * @throws {BentoportError} ERR_INVALID_TARGET in cases 2 and 5.
 * @example
 * ```ts
 * registryAddress('ghcr.io/acme/bentos'); // 'oci://ghcr.io/acme/bentos'
 * registryAddress('127.0.0.1:5000'); // 'oci://127.0.0.1:5000'
 * ```
 */
export function registryAddress(text: string): string {
  const trimmed = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return trimmed;
  if (isDockerStyleReference(trimmed)) return `oci://${trimmed.replace(/\/+$/, '')}`;
  if (/^[a-z][a-z0-9+-]*$/i.test(trimmed)) return trimmed;
  const why = PATH_LIKE.test(trimmed) ? 'a path is not a registry' : 'a docker-style address starts with a host that has a dot or a port, or localhost';
  throw new BentoportError(
    'ERR_INVALID_TARGET',
    `invalid registry '${redact(trimmed)}': ${why}; use oci://HOST[:PORT]/REPOSITORY, HOST[:PORT]/REPOSITORY or bentocloud[://CONTEXT]`,
  );
}

/** A push or pull argument that names its registry too: `HOST[:PORT][/REPOSITORY]/NAME[:VERSION]`. */
export interface ItemReference {
  /** `oci://HOST[:PORT][/REPOSITORY]`. */
  registry: string;
  /** `NAME` or `NAME:VERSION`. */
  tag: string;
}

/**
 * Split a docker-style item reference, as `docker pull HOST/REPOSITORY:TAG` takes it: the last
 * path component is the bento's (or model's) tag, the rest the registry address. Undefined for a
 * plain BentoML tag (no `/`).
 * @throws {BentoportError} ERR_INVALID_TARGET when it has a `/` but is not `HOST[:PORT][/REPOSITORY]/NAME[:VERSION]`.
 * @example
 * ```ts
 * itemReference('127.0.0.1:5000/team/iris_classifier:v1'); // { registry: 'oci://127.0.0.1:5000/team', tag: 'iris_classifier:v1' }
 * ```
 */
export function itemReference(text: string): ItemReference | undefined {
  if (!text.includes('/')) return undefined;
  const slash = text.lastIndexOf('/');
  const address = text.slice(0, slash);
  const tag = text.slice(slash + 1);
  if (!isDockerStyleReference(address) || tag === '') {
    throw new BentoportError('ERR_INVALID_TARGET', `invalid reference '${redact(text)}': use NAME[:VERSION], or HOST[:PORT][/REPOSITORY]/NAME[:VERSION] to name the registry too`);
  }
  return { registry: `oci://${address}`, tag };
}
