import { chownSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { resolveImportSource, type Location } from '@bentoport/core';
import type { FtpServers } from './global-setup.js';

export type ServerKind = 'plain' | 'explicit' | 'implicit';

/** `ftp://user:pass@127.0.0.1:PORT` for one of the test servers, the password percent-encoded. */
export function serverUrl(servers: FtpServers, kind: ServerKind, port?: number, password = servers.password): string {
  const scheme = kind === 'implicit' ? 'ftps' : 'ftp';
  const actualPort = port ?? (kind === 'plain' ? servers.plainPort : kind === 'explicit' ? servers.explicitTlsPort : servers.implicitTlsPort);
  return `${scheme}://${encodeURIComponent(servers.user)}:${encodeURIComponent(password)}@127.0.0.1:${actualPort}`;
}

/** A location as core resolves it from a URL, so the tests see what users' URLs become. */
export function urlLocation(url: string): Location {
  return resolveImportSource(url, undefined, undefined, 'bento').location;
}

/** A fresh directory under the FTP user's root, owned by that user. */
export function makeUserDirectory(servers: FtpServers, name: string): string {
  const directory = path.join(servers.root, `${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(directory);
  const owner = statSync(servers.root);
  chownSync(directory, owner.uid, owner.gid);
  return directory;
}
