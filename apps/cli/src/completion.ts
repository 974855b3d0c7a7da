import { homedir } from 'node:os';
import * as path from 'node:path';
import { LOCAL_STORE } from '@bentoport/core';
import {
  COMMANDS,
  GLOBAL_OPTIONS,
  GLOBAL_OPTION_VALUES,
  TOOL_COMMANDS,
  commandOptions,
  isCommandName,
  type CommandName,
  type CommandSpec,
  type Group,
  type OptionsConfig,
  type ValueKind,
} from './command-line.js';

/** What the shell offers for the word being completed. */
export interface CompletionReply {
  /** Candidates that start with the word being completed. */
  words: string[];
  /** Offer paths too (the shell lists them itself): any file, or directories only. */
  paths?: 'files' | 'directories';
}

/** Where the candidates that depend on the store come from. */
export interface CompletionStore {
  /**
   * The `name:version` tags of the bentos (`bentos`) or models (`models`) in the store at `home`
   * (undefined: `$BENTOML_HOME`, else `~/bentoml`).
   */
  tags(group: Group, home: string | undefined): Promise<string[]>;
}

export interface CompletionContext {
  store: CompletionStore;
  /** A relative `--home` on the line resolves against it, as the command would. */
  cwd: string;
}

/** The words before the one being completed, read as the parser would read them. */
interface LineState {
  group: Group;
  command?: CommandName;
  /** A word that is neither a command nor an argument: nothing to offer after it. */
  unknownCommand: boolean;
  positionals: number;
  /** `--` seen: every later word is an argument. */
  afterSeparator: boolean;
  /** The option whose value the next word is. */
  pendingOption?: string;
  /** `--home` as given on the line. */
  home?: string;
}

/**
 * A word as the command will receive it, for the common cases of shell quoting: `'…'`, `"…"`
 * and backslashes (an unfinished quote is the word still being typed), and a leading `~/`.
 */
export function shellWord(word: string): string {
  let result = '';
  let quote: "'" | '"' | undefined;
  for (let index = 0; index < word.length; index++) {
    const character = word[index] as string;
    if (quote === "'") {
      if (character === "'") quote = undefined;
      else result += character;
    } else if (character === '\\' && index + 1 < word.length && (quote === undefined || '"\\$`'.includes(word[index + 1] as string))) {
      result += word[++index];
    } else if (character === quote) {
      quote = undefined;
    } else if (quote === undefined && (character === "'" || character === '"')) {
      quote = character;
    } else {
      result += character;
    }
  }
  if (result === '~' || result.startsWith('~/')) result = homedir() + result.slice(1);
  return result;
}

function specOf(state: LineState): CommandSpec | undefined {
  return state.command === undefined ? undefined : COMMANDS[state.command];
}

function optionsOf(state: LineState): OptionsConfig {
  const spec = specOf(state);
  return spec === undefined ? GLOBAL_OPTIONS : commandOptions(state.group, spec);
}

/** The option a flag word names (`--name`, `--name=value`, `-x`, `-xVALUE`), with any value given in the same word. */
function optionOf(options: OptionsConfig, word: string): { name: string; inlineValue?: string } | undefined {
  if (word.startsWith('--')) {
    const equals = word.indexOf('=');
    const name = word.slice(2, equals === -1 ? undefined : equals);
    if (!Object.hasOwn(options, name)) return undefined;
    return equals === -1 ? { name } : { name, inlineValue: word.slice(equals + 1) };
  }
  const short = word[1];
  const entry = Object.entries(options).find(([, option]) => option.short === short);
  if (entry === undefined) return undefined;
  // `-qv` is a group of boolean flags; `-ojson` is `-o json`.
  return word.length > 2 && entry[1].type === 'string' ? { name: entry[0], inlineValue: word.slice(2) } : { name: entry[0] };
}

function readWord(state: LineState, word: string): void {
  if (state.pendingOption !== undefined) {
    if (state.pendingOption === 'home') state.home = shellWord(word);
    state.pendingOption = undefined;
    return;
  }
  if (!state.afterSeparator && word === '--') {
    state.afterSeparator = true;
    return;
  }
  if (!state.afterSeparator && word.startsWith('-') && word !== '-') {
    const options = optionsOf(state);
    const option = optionOf(options, word);
    if (option === undefined) return;
    if (option.inlineValue !== undefined) {
      if (option.name === 'home') state.home = shellWord(option.inlineValue);
    } else if (options[option.name]?.type === 'string') {
      state.pendingOption = option.name;
    }
    return;
  }
  if (state.command !== undefined || state.unknownCommand) {
    state.positionals += 1;
  } else if (word === 'models' && state.group === 'bentos') {
    state.group = 'models';
  } else if (isCommandName(word) && !(state.group === 'models' && TOOL_COMMANDS.has(word))) {
    state.command = word;
  } else {
    state.unknownCommand = true;
  }
}

/** What the value of `option` is, from the command's table or the global one. */
function optionValueKind(state: LineState, option: string): ValueKind {
  const spec = specOf(state);
  const kinds = { ...GLOBAL_OPTION_VALUES, ...spec?.optionValues, ...(state.group === 'models' ? spec?.models?.optionValues : undefined) };
  return kinds[option] ?? 'text';
}

function argumentKind(state: LineState, spec: CommandSpec): ValueKind {
  const [, max] = (state.group === 'models' ? spec.models?.positionals : undefined) ?? spec.positionals;
  const kinds = (state.group === 'models' ? spec.models?.arguments : undefined) ?? spec.arguments ?? [];
  if (state.positionals >= max || kinds.length === 0) return 'text';
  return kinds[Math.min(state.positionals, kinds.length - 1)] as ValueKind;
}

function homeOf(state: LineState, context: CompletionContext): string | undefined {
  return state.home === undefined ? undefined : path.resolve(context.cwd, state.home);
}

function namesOf(tags: readonly string[]): string[] {
  return [...new Set(tags.map((tag) => tag.slice(0, tag.indexOf(':'))))];
}

/** Every `name:version` of the store, and `name:latest` for each name. */
async function tagCandidates(state: LineState, context: CompletionContext): Promise<string[]> {
  const tags = await context.store.tags(state.group, homeOf(state, context));
  return [...namesOf(tags).map((name) => `${name}:latest`), ...tags];
}

async function nameCandidates(state: LineState, context: CompletionContext): Promise<string[]> {
  return namesOf(await context.store.tags(state.group, homeOf(state, context)));
}

async function valueReply(kind: ValueKind, state: LineState, context: CompletionContext, prefix: string, current: string): Promise<CompletionReply> {
  const matching = (candidates: readonly string[]) => candidates.map((candidate) => prefix + candidate).filter((candidate) => candidate.startsWith(current));
  if (typeof kind !== 'string') return { words: matching(kind) };
  switch (kind) {
    case 'file':
      return { words: [], paths: 'files' };
    case 'directory':
      return { words: [], paths: 'directories' };
    case 'store':
      return { words: matching([LOCAL_STORE]), paths: 'directories' };
    case 'tag':
      return { words: matching(await tagCandidates(state, context)) };
    case 'name':
      return { words: matching(await nameCandidates(state, context)) };
    case 'text':
      return { words: [] };
  }
}

function flagCandidates(options: OptionsConfig): string[] {
  const flags: string[] = [];
  for (const [name, option] of Object.entries(options)) {
    flags.push(`--${name}`);
    if (option.short !== undefined) flags.push(`-${option.short}`);
  }
  return flags;
}

function commandCandidates(group: Group): string[] {
  const commands = Object.keys(COMMANDS).filter((name) => group === 'bentos' || !TOOL_COMMANDS.has(name as CommandName));
  return group === 'bentos' ? [...commands, 'models'] : commands;
}

/**
 * The candidates for the last of `words` (the words after `bentoport`, the last one being typed,
 * possibly empty), from the parser's own tables: the commands, the flags of the command being
 * typed, their values, and its arguments (tags of the store, paths).
 * @throws whatever the store throws; the caller prints nothing then.
 */
export async function completeCommandLine(words: readonly string[], context: CompletionContext): Promise<CompletionReply> {
  const state: LineState = { group: 'bentos', unknownCommand: false, positionals: 0, afterSeparator: false };
  for (const word of words.slice(0, -1)) readWord(state, word);
  const current = shellWord(words.at(-1) ?? '');
  if (state.pendingOption !== undefined) return valueReply(optionValueKind(state, state.pendingOption), state, context, '', current);
  if (!state.afterSeparator && current.startsWith('-')) {
    const options = optionsOf(state);
    const option = current.startsWith('--') && current.includes('=') ? optionOf(options, current) : undefined;
    if (option !== undefined) return valueReply(optionValueKind(state, option.name), state, context, current.slice(0, current.indexOf('=') + 1), current);
    return { words: flagCandidates(options).filter((flag) => flag.startsWith(current)) };
  }
  if (state.unknownCommand) return { words: [] };
  const spec = specOf(state);
  if (spec === undefined) return { words: commandCandidates(state.group).filter((command) => command.startsWith(current)) };
  return valueReply(argumentKind(state, spec), state, context, '', current);
}

/** The reply as `__complete` prints it: one candidate a line, then `:files` or `:directories` when paths are wanted. */
export function formatCompletionReply(reply: CompletionReply): string {
  const lines = [...reply.words];
  if (reply.paths !== undefined) lines.push(`:${reply.paths}`);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
