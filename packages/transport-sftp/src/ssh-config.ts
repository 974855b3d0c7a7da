import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A reader of OpenSSH client configuration (`~/.ssh/config`) for the few keywords an SFTP
 * connection needs, with OpenSSH's rules: keywords are case-insensitive, the first value obtained
 * for a keyword wins (IdentityFile accumulates), `Host` lines take several patterns with `*`, `?`
 * and `!negation`, `Include` reads files (globs, relative to `~/.ssh`) in place. `Match` blocks
 * other than `Match all` are skipped: their criteria (`exec`, `localnetwork`, canonical names…)
 * would need ssh's own state or running commands, which bentoport never does.
 */

/** A malformed line: the message starts with the file and the line number. */
export class SshConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    reason: string,
  ) {
    super(`${file}${line === undefined ? '' : ` line ${line}`}: ${reason}`);
    this.name = 'SshConfigError';
  }
}

/** A value with the line it came from, for messages. */
export interface Sourced<T> {
  value: T;
  file: string;
  line: number;
}

/** What the configuration says about one host, before tokens are expanded. */
export interface SshHostConfig {
  /** `HostName`, `%h` still in it. */
  hostName?: Sourced<string>;
  user?: Sourced<string>;
  port?: Sourced<number>;
  /** Every `IdentityFile` obtained, in order; `~` and `%` tokens still in them. */
  identityFiles: Sourced<string>[];
  identitiesOnly?: Sourced<boolean>;
  /** `UserKnownHostsFile`'s files; an empty list for `none`. */
  userKnownHostsFiles?: Sourced<string[]>;
  connectTimeoutMs?: Sourced<number>;
  /** A `ProxyJump` or `ProxyCommand` (other than `none`) obtained for the host. */
  proxy?: Sourced<string> & { keyword: 'ProxyJump' | 'ProxyCommand' };
}

/** One meaningful line: its keyword in lower case and its arguments, quotes removed. */
export interface SshConfigLine {
  keyword: string;
  args: string[];
  line: number;
}

/** OpenSSH's limit on nested `Include`s. */
const MAX_INCLUDE_DEPTH = 16;

/**
 * Split one line as OpenSSH does: the keyword ends at white space or `=`; arguments are separated
 * by white space, `"…"` groups one with spaces, and an unquoted `#` starting an argument ends the
 * line. Returns undefined for blank and comment lines.
 */
export function splitConfigLine(text: string, file: string, line: number): SshConfigLine | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const keywordMatch = /^([^\s=]+)\s*(?:=\s*)?/.exec(trimmed);
  if (keywordMatch === null) throw new SshConfigError(file, line, `no keyword before "="`);
  const keyword = (keywordMatch[1] as string).toLowerCase();
  const rest = trimmed.slice(keywordMatch[0].length);
  const args: string[] = [];
  let index = 0;
  while (index < rest.length) {
    while (index < rest.length && /\s/.test(rest[index] as string)) index++;
    if (index >= rest.length) break;
    if (rest[index] === '#') break;
    let arg = '';
    let quoted = false;
    while (index < rest.length && (quoted || !/\s/.test(rest[index] as string))) {
      const character = rest[index] as string;
      if (character === '"') quoted = !quoted;
      else arg += character;
      index++;
    }
    if (quoted) throw new SshConfigError(file, line, 'a quote is not closed');
    args.push(arg);
  }
  return { keyword, args, line };
}

/** Whether a `*`/`?` pattern matches `text`, ignoring case, as OpenSSH compares host names. */
export function matchesPattern(pattern: string, text: string): boolean {
  const expression = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${expression}$`, 'is').test(text);
}

/**
 * Whether a `Host` line's patterns select `host`: one positive pattern must match and no negated
 * one may (a matching `!pattern` rules the block out whatever else matches).
 */
export function hostPatternsMatch(patterns: readonly string[], host: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (matchesPattern(pattern.slice(1), host)) return false;
    } else if (matchesPattern(pattern, host)) {
      matched = true;
    }
  }
  return matched;
}

/** OpenSSH's time format: `30`, `30s`, `1m30s`, `2h` (seconds when no unit), in milliseconds. */
export function parseTimeInterval(text: string): number | undefined {
  if (!/^(\d+[sSmMhHdDwW]?)+$/.test(text)) return undefined;
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
  let seconds = 0;
  for (const [, amount, suffix] of text.matchAll(/(\d+)([a-zA-Z]?)/g)) {
    seconds += Number(amount) * (unit[(suffix || 's').toLowerCase()] ?? 1);
  }
  return seconds * 1000;
}

/**
 * Replace `%` tokens (`%%` is a literal `%`); a token missing from `tokens` is an error, as in
 * OpenSSH, so that a typo does not silently become a path.
 */
export function expandTokens(value: string, tokens: Readonly<Record<string, string>>, where: { file: string; line: number }): string {
  return value.replace(/%(.?)/g, (whole, letter: string) => {
    if (letter === '%') return '%';
    const replacement = tokens[letter];
    if (replacement === undefined) {
      const known = Object.keys(tokens).map((name) => `%${name}`).join(' ');
      throw new SshConfigError(where.file, where.line, `${whole === '%' ? 'a lone "%"' : `the token ${whole}`} is not supported here (known: %% ${known})`);
    }
    return replacement;
  });
}

/** `~` or `~/…` at the start of a path becomes the home directory. */
export function expandHome(value: string, home: string): string {
  if (value === '~') return home;
  return value.startsWith('~/') ? path.join(home, value.slice(2)) : value;
}

/** Files matching a path whose segments may hold `*`, `?` or `[…]`, sorted as glob(3) sorts them. */
async function globFiles(pattern: string): Promise<string[]> {
  const segments = pattern.split('/');
  let bases = [segments[0] === '' ? '/' : (segments[0] as string)];
  for (const segment of segments.slice(1)) {
    if (segment === '') continue;
    if (!/[*?[]/.test(segment)) {
      bases = bases.map((base) => path.join(base, segment));
      continue;
    }
    const expression = new RegExp(
      `^${segment
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/\[!/g, '[^')}$`,
      's',
    );
    const next: string[] = [];
    for (const base of bases) {
      const names = await readdir(base).catch(() => [] as string[]);
      for (const name of names.sort()) {
        // As in the shell, a wildcard does not match a leading dot.
        if (expression.test(name) && !(name.startsWith('.') && !segment.startsWith('.'))) next.push(path.join(base, name));
      }
    }
    bases = next;
  }
  return bases;
}

function requireArgs(entry: SshConfigLine, file: string, keyword: string, count = 1): void {
  if (entry.args.length < count) throw new SshConfigError(file, entry.line, `${keyword} needs a value`);
}

function yesNo(entry: SshConfigLine, file: string, keyword: string): boolean {
  requireArgs(entry, file, keyword);
  const value = (entry.args[0] as string).toLowerCase();
  if (value === 'yes' || value === 'true') return true;
  if (value === 'no' || value === 'false') return false;
  throw new SshConfigError(file, entry.line, `${keyword} must be yes or no, got "${entry.args[0]}"`);
}

/** Where the walk is: the host, the state of the current block, and what has been obtained. */
interface Walk {
  host: string;
  home: string;
  result: SshHostConfig;
  depth: number;
}

/**
 * Check a keyword's value and keep it when its block applies and nothing was obtained for it
 * before. Values are checked in every block, as ssh checks them, so a typo fails wherever it is.
 */
function applyKeyword(entry: SshConfigLine, file: string, active: boolean, walk: Walk): void {
  const { result } = walk;
  const sourced = <T>(value: T): Sourced<T> => ({ value, file, line: entry.line });
  const first = entry.args[0] as string;
  switch (entry.keyword) {
    case 'hostname':
      requireArgs(entry, file, 'HostName');
      if (active) result.hostName ??= sourced(first);
      return;
    case 'user':
      requireArgs(entry, file, 'User');
      if (active) result.user ??= sourced(first);
      return;
    case 'port': {
      requireArgs(entry, file, 'Port');
      const port = Number(first);
      if (!/^\d+$/.test(first) || port < 1 || port > 65535) throw new SshConfigError(file, entry.line, `Port must be a number from 1 to 65535, got "${first}"`);
      if (active) result.port ??= sourced(port);
      return;
    }
    case 'identityfile':
      requireArgs(entry, file, 'IdentityFile');
      if (active) result.identityFiles.push(sourced(first));
      return;
    case 'identitiesonly': {
      const value = yesNo(entry, file, 'IdentitiesOnly');
      if (active) result.identitiesOnly ??= sourced(value);
      return;
    }
    case 'userknownhostsfile': {
      requireArgs(entry, file, 'UserKnownHostsFile');
      const files = entry.args.length === 1 && first.toLowerCase() === 'none' ? [] : entry.args;
      if (active) result.userKnownHostsFiles ??= sourced(files);
      return;
    }
    case 'connecttimeout': {
      requireArgs(entry, file, 'ConnectTimeout');
      const milliseconds = parseTimeInterval(first);
      if (milliseconds === undefined) throw new SshConfigError(file, entry.line, `ConnectTimeout must be a time such as 10 or 1m30s, got "${first}"`);
      // 0 is ssh's "the system's default": obtained like any value, so later lines do not override it.
      if (active) result.connectTimeoutMs ??= sourced(milliseconds);
      return;
    }
    case 'proxyjump':
    case 'proxycommand': {
      const keyword = entry.keyword === 'proxyjump' ? 'ProxyJump' : 'ProxyCommand';
      requireArgs(entry, file, keyword);
      // ProxyJump and ProxyCommand share one slot in ssh: whichever comes first wins, `none` included.
      if (active && result.proxy === undefined) result.proxy = { ...sourced(entry.args.join(' ')), keyword };
      return;
    }
    default:
      // Other keywords (Ciphers, ForwardAgent, …) do not change how bentoport connects.
      return;
  }
}

async function includeFiles(entry: SshConfigLine, file: string, active: boolean, walk: Walk): Promise<void> {
  requireArgs(entry, file, 'Include');
  if (walk.depth >= MAX_INCLUDE_DEPTH) throw new SshConfigError(file, entry.line, `Include nested more than ${MAX_INCLUDE_DEPTH} deep`);
  for (const argument of entry.args) {
    const expanded = expandHome(argument, walk.home);
    const pattern = path.isAbsolute(expanded) ? expanded : path.join(walk.home, '.ssh', expanded);
    for (const included of await globFiles(pattern)) {
      const text = await readFile(included, 'utf8').catch(() => undefined);
      if (text !== undefined) await walkText(text, included, active, { ...walk, depth: walk.depth + 1 });
    }
  }
}

/**
 * Read one file's lines in order. A `Host` or `Match` line opens a block that applies or not;
 * lines before the first one apply to every host. An included file starts in the state of the
 * line that includes it (an `Include` inside a block that does not apply includes nothing that
 * applies) and that state comes back after it.
 */
async function walkText(text: string, file: string, includedActive: boolean, walk: Walk): Promise<void> {
  let active = includedActive;
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const entry = splitConfigLine(lines[index] as string, file, index + 1);
    if (entry === undefined) continue;
    if (entry.keyword === 'host') {
      requireArgs(entry, file, 'Host');
      active = includedActive && hostPatternsMatch(entry.args, walk.host);
    } else if (entry.keyword === 'match') {
      requireArgs(entry, file, 'Match');
      // Only `Match all` is understood; the blocks of other criteria are skipped.
      active = includedActive && entry.args.length === 1 && (entry.args[0] as string).toLowerCase() === 'all';
    } else if (entry.keyword === 'include') {
      await includeFiles(entry, file, active, walk);
    } else {
      applyKeyword(entry, file, active, walk);
    }
  }
}

export interface ReadSshConfigOptions {
  /** The user's home directory: `~` and relative `Include` paths (under `~/.ssh`) start there. */
  home: string;
  /** Whether a missing file is an error (a path the user named) rather than no configuration. */
  required?: boolean;
}

/**
 * What an OpenSSH client configuration file says about `host` (the name as typed, matched
 * against `Host` patterns). A missing file gives an empty configuration unless `required`.
 * Throws {@link SshConfigError} for a malformed line or an unreadable required file.
 */
export async function readSshConfig(file: string, host: string, options: ReadSshConfigOptions): Promise<SshHostConfig> {
  const result: SshHostConfig = { identityFiles: [] };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.required !== true) return result;
    throw new SshConfigError(file, undefined, `cannot be read (${code ?? String(error)})`);
  }
  await walkText(text, file, true, { host: host.toLowerCase(), home: options.home, result, depth: 0 });
  return result;
}
