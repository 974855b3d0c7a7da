import { parsePublicKeyLine, type SshPublicKey } from './ssh-keys.js';

/**
 * `allowed_signers`, the file `ssh-keygen -Y verify` and git read (ssh-keygen(1), "ALLOWED
 * SIGNERS"): one line per key, `PRINCIPALS [OPTIONS] KEYTYPE BASE64 [COMMENT]`. PRINCIPALS is a
 * comma-separated list of patterns (`*`, `?`, `!` to exclude); OPTIONS are `namespaces="…"`,
 * `valid-after="…"`, `valid-before="…"` and `cert-authority`.
 */
export interface AllowedSigner {
  /** The principal patterns, as written. */
  principals: string;
  /** The namespace patterns the key may sign for; every namespace when absent. */
  namespaces?: string;
  validAfter?: Date;
  validBefore?: Date;
  /** A certificate authority's key: it signs certificates, not messages, and is never matched here. */
  certificateAuthority: boolean;
  key: SshPublicKey;
  /** The 1-based line number, for messages. */
  line: number;
}

/** Splits `text` at the characters `isSeparator` accepts outside double quotes, keeping empty parts when `keepEmpty`. */
function splitOutsideQuotes(text: string, isSeparator: (character: string) => boolean, keepEmpty: boolean): string[] {
  const found: string[] = [];
  let current = '';
  let quoted = false;
  for (const character of text) {
    if (character === '"') quoted = !quoted;
    if (!quoted && isSeparator(character)) {
      if (keepEmpty || current !== '') found.push(current);
      current = '';
    } else current += character;
  }
  if (quoted) throw new Error('a quote is not closed');
  if (keepEmpty || current !== '') found.push(current);
  return found;
}

/** Splits a line at whitespace outside double quotes. */
function tokens(line: string): string[] {
  return splitOutsideQuotes(line, (character) => /\s/.test(character), false);
}

/** Splits `a,b="x,y",c` at commas outside quotes. */
function optionList(text: string): string[] {
  return splitOutsideQuotes(text, (character) => character === ',', true);
}

function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
}

/** `YYYYMMDD[HHMM[SS]][Z]`: UTC with `Z`, local time without, as ssh-keygen reads it. */
export function parseSignerTime(value: string): Date {
  const match = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z)?$/i.exec(value);
  if (match === null) throw new Error(`"${value}" is not a time (YYYYMMDD[HHMM[SS]][Z])`);
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  return match[7] === undefined ? new Date(year, month - 1, day, hour, minute, second) : new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

const KEY_TYPE = /^(ssh-|ecdsa-sha2-|sk-)/;

function parseLine(text: string, line: number): AllowedSigner | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const parts = tokens(trimmed);
  const principals = parts[0] as string;
  let index = 1;
  const signer: Omit<AllowedSigner, 'key'> = { principals: unquote(principals), certificateAuthority: false, line };
  if (parts[index] !== undefined && !KEY_TYPE.test(parts[index] as string)) {
    for (const option of optionList(parts[index] as string)) applyOption(signer, option);
    index += 1;
  }
  const keyText = parts.slice(index, index + 2).join(' ');
  return { ...signer, key: parsePublicKeyLine(keyText) };
}

function applyOption(signer: Omit<AllowedSigner, 'key'>, option: string): void {
  const equals = option.indexOf('=');
  const name = (equals < 0 ? option : option.slice(0, equals)).toLowerCase();
  const value = equals < 0 ? '' : unquote(option.slice(equals + 1));
  if (name === 'cert-authority') signer.certificateAuthority = true;
  else if (name === 'namespaces') signer.namespaces = value;
  else if (name === 'valid-after') signer.validAfter = parseSignerTime(value);
  else if (name === 'valid-before') signer.validBefore = parseSignerTime(value);
  else throw new Error(`unknown option "${name}"`);
}

/** Reads an allowed_signers file. Throws a plain Error naming the line that is wrong. */
export function parseAllowedSigners(text: string): AllowedSigner[] {
  const signers: AllowedSigner[] = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    try {
      const signer = parseLine(line, index + 1);
      if (signer !== undefined) signers.push(signer);
    } catch (error) {
      throw new Error(`line ${index + 1}: ${(error as Error).message}`);
    }
  }
  return signers;
}

/** OpenSSH's wildcard match: `*` any run, `?` one character. */
function wildcardMatch(pattern: string, value: string): boolean {
  const expression = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${expression}$`, 's').test(value);
}

/**
 * OpenSSH's pattern lists: comma-separated, a `!pattern` that matches vetoes the whole list,
 * otherwise any plain pattern that matches accepts.
 */
export function matchesPatternList(list: string, value: string): boolean {
  let matched = false;
  for (const pattern of list.split(',')) {
    if (pattern.startsWith('!')) {
      if (wildcardMatch(pattern.slice(1), value)) return false;
    } else if (wildcardMatch(pattern, value)) matched = true;
  }
  return matched;
}

/** Whether `signer` allows its key for `namespace` at `time`. */
export function allowsNamespaceAt(signer: AllowedSigner, namespace: string, time: Date): boolean {
  if (signer.certificateAuthority) return false;
  if (signer.namespaces !== undefined && !matchesPatternList(signer.namespaces, namespace)) return false;
  if (signer.validAfter !== undefined && time < signer.validAfter) return false;
  if (signer.validBefore !== undefined && time > signer.validBefore) return false;
  return true;
}
