import { randomBytes } from 'node:crypto';
import type { Location } from '@bentoport/core';

/** A Location as core resolves `<protocol>://<host><path>?<query>`. */
export function httpLocation(protocol: 'http' | 'https', host: string, pathName: string, query = ''): Location {
  const display = `${protocol}://${host.replace(/:[^:@]*@/, ':***@')}${pathName}${query === '' ? '' : `?${query}`}`;
  return { protocol, host, path: pathName, query, display };
}

/** A fresh directory name under a server root, so test files never share one. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
