import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

/** A login found in a netrc file. */
export interface NetrcCredentials {
  login?: string;
  password?: string;
}

export interface NetrcLookupOptions {
  /** @default process.env (`NETRC` names the file, as curl and Python's netrc read it) */
  env?: NodeJS.ProcessEnv;
  /** @default os.homedir() */
  home?: string;
}

/**
 * The tokens of a netrc file, with `macdef` bodies (which run until an empty line) left out.
 * Quoted tokens (`password "a b"`) are accepted, as curl does.
 */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    if (/^\s*#/.test(line)) continue;
    const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
    let match: RegExpExecArray | null;
    let macro = false;
    while ((match = pattern.exec(line)) !== null) {
      const token = match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : (match[2] as string);
      tokens.push(token);
      if (match[1] === undefined && token === 'macdef') macro = true;
    }
    if (macro) {
      // Skip the macro body: every line up to the next empty one.
      while (index + 1 < lines.length && (lines[index + 1] as string).trim() !== '') index++;
    }
  }
  return tokens;
}

/**
 * Parse netrc text and return the login for `host` (the first `machine` entry with that name,
 * else `default`), or undefined. `port` and other unknown keywords are skipped with their value.
 */
export function parseNetrc(text: string, host: string): NetrcCredentials | undefined {
  const tokens = tokenize(text);
  let current: NetrcCredentials | undefined;
  let matched: NetrcCredentials | undefined;
  let fallback: NetrcCredentials | undefined;
  let currentMatches = false;
  const finish = (): void => {
    if (current === undefined) return;
    if (currentMatches && matched === undefined) matched = current;
    current = undefined;
  };
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index];
    if (token === 'machine') {
      finish();
      current = {};
      currentMatches = (tokens[++index] ?? '').toLowerCase() === host.toLowerCase();
    } else if (token === 'default') {
      finish();
      current = {};
      fallback ??= current;
      currentMatches = false;
    } else if (token === 'login' || token === 'password' || token === 'account' || token === 'port') {
      const value = tokens[++index];
      if (current !== undefined && value !== undefined) {
        if (token === 'login') current.login = value;
        if (token === 'password') current.password = value;
      }
    } else if (token === 'macdef') {
      finish();
      index++;
    }
  }
  finish();
  return matched ?? fallback;
}

/**
 * The login for `host` from `$NETRC`, else `~/.netrc` (`~/_netrc` on Windows), as curl reads it;
 * undefined when there is no file or no entry. A file that cannot be read counts as absent.
 */
export async function netrcCredentials(host: string, options: NetrcLookupOptions = {}): Promise<NetrcCredentials | undefined> {
  const env = options.env ?? process.env;
  const home = options.home ?? homedir();
  const file = env.NETRC !== undefined && env.NETRC !== '' ? env.NETRC : path.join(home, process.platform === 'win32' ? '_netrc' : '.netrc');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  return parseNetrc(text, host);
}

/** A user name and password for one server, either possibly unknown. */
export interface Login {
  user?: string;
  password?: string;
}

/**
 * The login for a server from its URL first, then netrc (when `netrc` is true): a URL without a
 * user takes netrc's login and password; a URL with a user but no password takes netrc's
 * password only when netrc's entry is for that user (or names none). Undefined parts are the
 * protocol's to default (anonymous FTP, the local user name for SSH).
 */
export async function resolveLogin(url: Login & { hostname: string }, options: NetrcLookupOptions & { netrc: boolean }): Promise<Login> {
  const { user, password } = url;
  if (!options.netrc || (user !== undefined && password !== undefined)) return { user, password };
  const found = await netrcCredentials(url.hostname, options);
  if (user === undefined) return { user: found?.login, password: found?.password };
  const sameUser = found?.login === undefined || found.login === user;
  return { user, password: sameUser ? found?.password : undefined };
}
