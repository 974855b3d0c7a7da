import type { Attributes, FileEntryWithStats, SFTPWrapper } from 'ssh2';

/** An SFTP session and the watchdog its requests report to (see `RequestWatchdog`). */
export interface SftpSession {
  readonly sftp: SFTPWrapper;
  track<T>(request: Promise<T>): Promise<T>;
}

/** Promise forms of the SFTP requests the transport sends, each one watched for a reply. */
export function stat({ sftp, track }: SftpSession, remotePath: string): Promise<Attributes> {
  return track(new Promise((resolve, reject) => sftp.stat(remotePath, (error, stats) => (error ? reject(error) : resolve(stats)))));
}

export function open({ sftp, track }: SftpSession, remotePath: string, flags: 'r' | 'r+' | 'wx'): Promise<Buffer> {
  return track(new Promise((resolve, reject) => sftp.open(remotePath, flags, { mode: 0o666 }, (error, handle) => (error ? reject(error) : resolve(handle)))));
}

export function fstat({ sftp, track }: SftpSession, handle: Buffer): Promise<Attributes> {
  return track(new Promise((resolve, reject) => sftp.fstat(handle, (error, stats) => (error ? reject(error) : resolve(stats)))));
}

export function close({ sftp, track }: SftpSession, handle: Buffer): Promise<void> {
  return track(new Promise((resolve, reject) => sftp.close(handle, (error) => (error ? reject(error) : resolve()))));
}

/** Read up to `length` bytes at `position`; fewer at the end of the file, 0 past it. */
export function read({ sftp, track }: SftpSession, handle: Buffer, length: number, position: number): Promise<Buffer> {
  return track(new Promise((resolve, reject) => {
    const buffer = Buffer.allocUnsafe(length);
    sftp.read(handle, buffer, 0, length, position, (error, bytesRead) => {
      // ssh2 reports the end of the file as an error with the EOF status (1).
      if (error && (error as { code?: unknown }).code !== 1) reject(error);
      else resolve(buffer.subarray(0, error ? 0 : bytesRead));
    });
  }));
}

export function write({ sftp, track }: SftpSession, handle: Buffer, data: Buffer, position: number): Promise<void> {
  return track(new Promise((resolve, reject) => sftp.write(handle, data, 0, data.length, position, (error) => (error ? reject(error) : resolve()))));
}

export function readdir({ sftp, track }: SftpSession, remotePath: string): Promise<FileEntryWithStats[]> {
  return track(new Promise((resolve, reject) => sftp.readdir(remotePath, (error, list) => (error ? reject(error) : resolve(list)))));
}

export function unlink({ sftp, track }: SftpSession, remotePath: string): Promise<void> {
  return track(new Promise((resolve, reject) => sftp.unlink(remotePath, (error) => (error ? reject(error) : resolve()))));
}

export function mkdir({ sftp, track }: SftpSession, remotePath: string): Promise<void> {
  return track(new Promise((resolve, reject) => sftp.mkdir(remotePath, (error) => (error ? reject(error) : resolve()))));
}

/** posix-rename@openssh.com: replaces the target atomically. Rejects when the server lacks it. */
export function posixRename({ sftp, track }: SftpSession, from: string, to: string): Promise<void> {
  return track(new Promise((resolve, reject) => {
    try {
      sftp.ext_openssh_rename(from, to, (error) => (error ? reject(error) : resolve()));
    } catch (error) {
      reject(Object.assign(error as Error, { unsupported: true }));
    }
  }));
}

/** The standard SSH_FXP_RENAME, which refuses an existing target on most servers. */
export function rename({ sftp, track }: SftpSession, from: string, to: string): Promise<void> {
  return track(new Promise((resolve, reject) => sftp.rename(from, to, (error) => (error ? reject(error) : resolve()))));
}

/** fsync@openssh.com, where offered; otherwise a no-op. */
export function fsync({ sftp, track }: SftpSession, handle: Buffer): Promise<void> {
  return track(new Promise((resolve) => {
    try {
      sftp.ext_openssh_fsync(handle, () => resolve());
    } catch {
      resolve();
    }
  }));
}

export function isDirectoryMode(mode: number): boolean {
  return (mode & 0o170000) === 0o040000;
}
