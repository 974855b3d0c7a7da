import path from 'node:path';
import { pluginFailure } from '@bentoport/plugin-kit';
import type { Location } from '@bentoport/spec';

/** The name this transport gives itself in messages. */
export const COMPONENT = 'transport-fs';

/** The local path of a `file` location, checked: another protocol or a relative path is refused. */
export function localPath(location: Location, operation: string): string {
  if (location.protocol !== 'file') {
    throw pluginFailure(COMPONENT, 'ERR_UNSUPPORTED_PROTOCOL', operation, location.display, `protocol ${location.protocol} is not file`);
  }
  if (!path.isAbsolute(location.path)) {
    throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', operation, location.display, `${location.path} is not an absolute path`);
  }
  return location.path;
}
