/**
 * The path on a server of a URL's path, for protocols that log in to a home directory (FTP,
 * SFTP): absolute as given (`ftp://host/srv/x.tar` is `/srv/x.tar`, as fsspec and BentoML read
 * it), or relative to the login directory `home` when it starts with `/~/` (`sftp://host/~/x.tar`,
 * as curl writes it). An empty path is the root.
 */
export function serverPath(urlPath: string, home: string): string {
  const raw = urlPath === '' ? '/' : urlPath;
  if (raw === '/~' || raw.startsWith('/~/')) return `${home.replace(/\/+$/, '')}${raw.slice(2)}` || '/';
  return raw;
}

/** The directory holding a server path: `/a/b/c.tar` → `/a/b`, `/c.tar` → `/`. */
export function parentDirectory(filePath: string): string {
  const trimmed = filePath.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  return slash <= 0 ? '/' : trimmed.slice(0, slash);
}
