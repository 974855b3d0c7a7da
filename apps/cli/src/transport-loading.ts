import type { Transport } from '@bentoport/core';
import { fsTransport } from '@bentoport/transport-fs';
import type { OptionValues } from './command-line.js';

/**
 * The transports one command needs, and only those: a network transport is imported when the
 * command names its protocol (a URL argument's scheme or `--protocol`).
 *
 * Why not all of them: loading every plugin costs ~250 ms before anything happens and leaves
 * ~10 MiB more on the heap (the AWS SDK and undici alone: 4 MiB each). Every full garbage
 * collection walks that heap, and a transfer triggers one every few megabytes it allocates, so
 * a 1 GiB SFTP export ran 5.2 s with every plugin loaded against 4.6 s with its own.
 *
 * A protocol that no package here serves (a typo, `gs://`) loads nothing, and core's own error
 * names it.
 */
type Loader = (env: NodeJS.ProcessEnv) => Promise<Transport>;

const s3: Loader = async () => (await import('@bentoport/transport-s3')).s3Transport();
const http: Loader = async (env) => (await import('@bentoport/transport-http')).httpTransport({ env });
const ftp: Loader = async (env) => (await import('@bentoport/transport-ftp')).ftpTransport({ env });
const sftp: Loader = async (env) => (await import('@bentoport/transport-sftp')).sftpTransport({ env });

/** Protocol → the loader of the transport serving it (one transport may serve several). */
const LOADERS: Record<string, Loader> = { s3, s3a: s3, http, https: http, ftp, ftps: ftp, sftp };

/** The lower-cased URL schemes among `argumentsGiven`, plus `--protocol`. */
export function protocolsNamed(argumentsGiven: readonly string[], values: OptionValues): Set<string> {
  const protocols = new Set<string>();
  if (typeof values.protocol === 'string') protocols.add(values.protocol.toLowerCase());
  for (const argument of argumentsGiven) {
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(argument)?.[1];
    if (scheme !== undefined) protocols.add(scheme.toLowerCase());
  }
  return protocols;
}

/** The local file transport, and the network transports for the protocols the command names. */
export async function transportsFor(argumentsGiven: readonly string[], values: OptionValues, env: NodeJS.ProcessEnv): Promise<Transport[]> {
  const loaders = new Set<Loader>();
  for (const protocol of protocolsNamed(argumentsGiven, values)) {
    const loader = LOADERS[protocol];
    if (loader) loaders.add(loader);
  }
  return [fsTransport(), ...(await Promise.all([...loaders].map((load) => load(env))))];
}
