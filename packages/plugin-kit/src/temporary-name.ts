import { randomBytes } from 'node:crypto';

/** Keeps `.<basename>.bentoport-<12 hex>.tmp` within the usual 255-byte name limit. */
const MAX_BASENAME_IN_TEMPORARY_NAME = 200;

/**
 * The name under which a transport writes `basename` before its commit renames (or MOVEs) it
 * into place: hidden, recognisably ours, random, and short enough for any file system. Every
 * transport puts it beside the target, so the commit stays one atomic rename.
 *
 * @example temporarySiblingName('svc-v1.bento') // '.svc-v1.bento.bentoport-3f9a0c12d4e5.tmp'
 */
export function temporarySiblingName(basename: string): string {
  return `.${basename.slice(0, MAX_BASENAME_IN_TEMPORARY_NAME)}.bentoport-${randomBytes(6).toString('hex')}.tmp`;
}

/**
 * {@link temporarySiblingName} beside a `/`-separated path on a server (FTP, SFTP), whatever the
 * local platform's separator: `/data/svc.bento` → `/data/.svc.bento.bentoport-<hex>.tmp`.
 */
export function temporarySiblingPath(remotePath: string): string {
  const trimmed = remotePath.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  const directory = slash <= 0 ? '/' : trimmed.slice(0, slash);
  const name = temporarySiblingName(trimmed.slice(slash + 1));
  return directory === '/' ? `/${name}` : `${directory}/${name}`;
}
