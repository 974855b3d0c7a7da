import type { Operation, ProgressListener } from '@bentoport/spec';

/**
 * Tell the user that a leftover of a killed earlier run was removed, as a `notice` event: the
 * run that made it could not say anything, so this is the only trace of it the user sees.
 * `where` must already be redacted (a `Location.display`, a bucket and key).
 */
export function reportRemovedLeftover(onProgress: ProgressListener | undefined, operation: Operation, component: string, where: string): void {
  onProgress?.({ type: 'notice', operation, message: `[${component}] removed a stale leftover of an interrupted earlier run: ${where}` });
}

/** A display form (`ftp://host/dir/svc.bento`) with its last path segment replaced by `name`. */
export function siblingDisplay(display: string, name: string): string {
  const slash = display.lastIndexOf('/');
  return slash < 0 ? name : `${display.slice(0, slash + 1)}${name}`;
}
