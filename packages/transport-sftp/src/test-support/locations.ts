import { chownSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { resolveImportSource, type Location } from '@bentoport/core';
import type { SftpServers } from './global-setup.js';

/** `sftp://user[:password]@127.0.0.1:PORT`, the password percent-encoded. */
export function serverUrl(servers: SftpServers, options: { password?: string | false; port?: number } = {}): string {
  const password = options.password === false ? '' : `:${encodeURIComponent(options.password ?? servers.password)}`;
  return `sftp://${encodeURIComponent(servers.user)}${password}@127.0.0.1:${options.port ?? servers.port}`;
}

export function urlLocation(url: string): Location {
  return resolveImportSource(url, undefined, undefined, 'bento').location;
}

/** A fresh directory under the SFTP user's root, owned by that user. */
export function makeUserDirectory(servers: SftpServers, name: string): string {
  const directory = path.join(servers.root, `${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(directory);
  const owner = statSync(servers.root);
  chownSync(directory, owner.uid, owner.gid);
  return directory;
}
