import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** `SHA256:<base64 without padding>`, as `ssh-keygen -lf` and OpenSSH's messages print it. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The name a host has in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(hostname: string, port: number): string {
  return port === 22 ? hostname : `[${hostname}]:${port}`;
}

/** The key type inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, …). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return '';
  const length = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + length).toString('latin1');
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

/** Whether one known_hosts host field (`a,b,!c`, `*.example.com` or `|1|salt|hash`) names `name`. */
function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (salt === undefined || hash === undefined) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    if (globToRegExp(negated ? pattern.slice(1) : pattern).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

export type HostKeyVerdict =
  | { status: 'known' }
  | { status: 'unknown' }
  | { status: 'changed'; file: string; line: number }
  | { status: 'revoked'; file: string; line: number };

/**
 * Check a server's key against known_hosts text, as OpenSSH does: a line naming the host with the
 * same key accepts it, `@revoked` refuses it, a line with the same key type but another key means
 * the key changed; certificate authorities (`@cert-authority`) are not supported and skipped.
 */
export function checkKnownHosts(text: string, file: string, name: string, keyBlob: Buffer): HostKeyVerdict {
  const type = keyTypeOf(keyBlob);
  const key = keyBlob.toString('base64');
  let changed: HostKeyVerdict | undefined;
  let known = false;
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const fields = (lines[index] as string).trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) continue;
    let marker: string | undefined;
    if (fields[0].startsWith('@')) marker = fields.shift();
    const [hosts, lineType, lineKey] = fields;
    if (hosts === undefined || lineType === undefined || lineKey === undefined) continue;
    if (marker === '@cert-authority' || !hostFieldMatches(hosts, name)) continue;
    if (marker === '@revoked') {
      if (lineKey === key) return { status: 'revoked', file, line: index + 1 };
      continue;
    }
    if (lineKey === key) known = true;
    else if (lineType === type) changed ??= { status: 'changed', file, line: index + 1 };
  }
  if (known) return { status: 'known' };
  return changed ?? { status: 'unknown' };
}

/** Check against every known_hosts file (missing files count as empty); the first definite verdict wins. */
export async function checkKnownHostsFiles(files: readonly string[], name: string, keyBlob: Buffer): Promise<HostKeyVerdict> {
  let verdict: HostKeyVerdict = { status: 'unknown' };
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const result = checkKnownHosts(text, file, name, keyBlob);
    if (result.status === 'known' || result.status === 'revoked') return result;
    if (result.status === 'changed' && verdict.status === 'unknown') verdict = result;
  }
  return verdict;
}
