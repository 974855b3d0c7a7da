import { FTPError, type Client } from 'basic-ftp';

/** What a path is on the server, from SIZE/MDTM (files) or CWD (directories): vsftpd has no MLST. */
export type RemoteEntry = { type: 'file'; size: number; mtime?: Date } | { type: 'directory' } | { type: 'missing' };

function isReplyError(error: unknown): error is FTPError {
  return error instanceof FTPError && error.code >= 500 && error.code < 600;
}

export async function isDirectory(client: Client, remotePath: string): Promise<boolean> {
  try {
    await client.cd(remotePath);
    return true;
  } catch (error) {
    if (isReplyError(error)) return false;
    throw error;
  }
}

export async function inspect(client: Client, remotePath: string): Promise<RemoteEntry> {
  if (remotePath === '/') return { type: 'directory' };
  try {
    const size = await client.size(remotePath);
    const mtime = await client.lastMod(remotePath).catch(() => undefined);
    return mtime === undefined ? { type: 'file', size } : { type: 'file', size, mtime };
  } catch (error) {
    if (!isReplyError(error)) throw error;
  }
  return (await isDirectory(client, remotePath)) ? { type: 'directory' } : { type: 'missing' };
}

/**
 * Create `directory` and its missing parents (MKD each level; an existing one answers 550). A
 * refused MKD of a level that exists afterwards is no failure: a concurrent writer to the same
 * tree (several transfers of one sync) created it between the check and the MKD.
 */
export async function makeDirectories(client: Client, directory: string): Promise<void> {
  if (directory === '/' || (await isDirectory(client, directory))) return;
  const parts = directory.split('/').filter((part) => part !== '');
  let current = directory.startsWith('/') ? '' : '.';
  for (const part of parts) {
    current = `${current}/${part}`;
    if (await isDirectory(client, current)) continue;
    try {
      await client.send(`MKD ${current}`);
    } catch (error) {
      if (!(await isDirectory(client, current))) throw error;
    }
  }
}
