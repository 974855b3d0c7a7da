import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MODELS_PULL_OPTIONS, PULL_OPTIONS, PUSH_OPTIONS } from './registry-options.js';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** A mistake in the command line: exit code 2 and a one-line hint. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose `--help` the hint points to, e.g. `export` or `models export`. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Group = 'bentos' | 'models';
export type CommandName = 'list' | 'get' | 'delete' | 'export' | 'import' | 'push' | 'pull' | 'sync' | 'sign' | 'verify' | 'manifest' | 'plugins' | 'completion';

/**
 * What a positional argument or an option's value is, so that shell completion can offer it:
 * a tag or a name of the store (bentos, or models under `models`), a file or directory path, a
 * sync's side (`local` or a directory), one of a fixed set of words, or free text (nothing to offer).
 */
export type ValueKind = 'tag' | 'name' | 'file' | 'directory' | 'store' | 'text' | readonly string[];

/** What a command's arguments and option values are, for completion. */
export interface ValueKinds {
  /** Kind of each positional argument, in order; a variadic command's last one repeats. */
  arguments?: readonly ValueKind[];
  /** Kind of the value of the string options that have something to offer; any other takes text. */
  optionValues?: Readonly<Record<string, ValueKind>>;
}

export interface CommandSpec extends ValueKinds {
  name: CommandName;
  /** Minimum and maximum positional arguments (Infinity for variadic). */
  positionals: [number, number];
  options: OptionsConfig;
  /** What `bentoport models <command>` takes beyond this, when BentoML's model command differs. */
  models?: { positionals?: [number, number]; options?: OptionsConfig } & ValueKinds;
}

/** `list -o`: the outputs of a listing. */
export const LIST_OUTPUTS = ['table', 'json', 'yaml'] as const;
/** `get -o`: the outputs of one item. */
export const GET_OUTPUTS = ['yaml', 'json', 'path'] as const;
/** `export --compression`: the policies core knows. */
export const COMPRESSION_POLICIES = ['auto', 'max', 'store'] as const;
/** `--progress`: how progress is shown. */
export const PROGRESS_MODES = ['auto', 'bar', 'json', 'none'] as const;
/** `completion SHELL`: the shells a completion script is written for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;

/**
 * Options every command accepts: ours, and BentoML's global ones (`-v/--verbose/--debug`,
 * `--do-not-track`, `--context`) so that a `bentoml` command line runs unchanged.
 */
export const GLOBAL_OPTIONS: OptionsConfig = {
  home: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  progress: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  debug: { type: 'boolean' },
  // bentoport sends no usage data, so there is nothing to turn off; accepted so scripts keep working.
  'do-not-track': { type: 'boolean' },
  context: { type: 'string' },
};

/** What the global options' values are, for completion. */
export const GLOBAL_OPTION_VALUES: Readonly<Record<string, ValueKind>> = { home: 'directory', progress: PROGRESS_MODES };

/** The spellings of the options of `options` that take a value (`--home`, and `-o` for a short one). */
function valueFlags(options: OptionsConfig): Set<string> {
  const flags = new Set<string>();
  for (const [name, option] of Object.entries(options)) {
    if (option.type !== 'string') continue;
    flags.add(`--${name}`);
    if (option.short !== undefined) flags.add(`-${option.short}`);
  }
  return flags;
}

/** Global options that take a value, so the command word can be found before parsing. */
const GLOBAL_VALUE_FLAGS = valueFlags(GLOBAL_OPTIONS);

const TARGET_OPTIONS: OptionsConfig = {
  protocol: { type: 'string' },
  user: { type: 'string' },
  passwd: { type: 'string' },
  param: { type: 'string', multiple: true },
  subpath: { type: 'string' },
};

export const COMMANDS: Record<CommandName, CommandSpec> = {
  // `list URL [NAME]` lists a registry (registry-listing-commands.ts) or a remote store (remote-store-commands.ts).
  list: { name: 'list', positionals: [0, 2], options: { output: { type: 'string', short: 'o' } }, arguments: ['name'], optionValues: { output: LIST_OUTPUTS } },
  get: { name: 'get', positionals: [1, 1], options: { output: { type: 'string', short: 'o' } }, arguments: ['tag'], optionValues: { output: GET_OUTPUTS } },
  delete: {
    name: 'delete',
    positionals: [1, Infinity],
    options: { yes: { type: 'boolean', short: 'y' }, 'assume-yes': { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
    arguments: ['tag'],
  },
  export: {
    name: 'export',
    positionals: [1, 2],
    arguments: ['tag', 'file'],
    optionValues: { compression: COMPRESSION_POLICIES, key: 'file' },
    options: {
      format: { type: 'string' },
      compression: { type: 'string' },
      'checksum-file': { type: 'boolean' },
      resume: { type: 'boolean' },
      sign: { type: 'boolean' },
      key: { type: 'string' },
      'dry-run': { type: 'boolean' },
      ...TARGET_OPTIONS,
    },
  },
  import: {
    name: 'import',
    positionals: [1, 1],
    options: {
      format: { type: 'string' },
      sha256: { type: 'string' },
      'require-signature': { type: 'boolean' },
      'allowed-signers': { type: 'string' },
      principal: { type: 'string' },
      policy: { type: 'string' },
      'dry-run': { type: 'boolean' },
      tag: { type: 'string' },
      ...TARGET_OPTIONS,
    },
    arguments: ['file'],
    optionValues: { 'allowed-signers': 'file', policy: 'file' },
  },
  push: { name: 'push', positionals: [1, 1], options: PUSH_OPTIONS, arguments: ['tag'] },
  // `bentoml models pull` takes no tag with -F/--bentofile: the bentofile's models are pulled.
  // The tag names what the registry has, which the local store cannot tell.
  pull: {
    name: 'pull',
    positionals: [1, 1],
    options: PULL_OPTIONS,
    arguments: ['text'],
    models: { positionals: [0, 1], options: MODELS_PULL_OPTIONS, optionValues: { bentofile: 'file' } },
  },
  sync: {
    name: 'sync',
    positionals: [2, 2],
    arguments: ['store', 'store'],
    options: {
      filter: { type: 'string', multiple: true },
      latest: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      delete: { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
      'assume-yes': { type: 'boolean' },
      format: { type: 'string' },
      concurrency: { type: 'string' },
    },
  },
  sign: { name: 'sign', positionals: [1, 1], options: { key: { type: 'string' } }, arguments: ['tag'], optionValues: { key: 'file' } },
  verify: {
    name: 'verify',
    positionals: [1, 1],
    options: { 'allowed-signers': { type: 'string' }, principal: { type: 'string' }, policy: { type: 'string' }, format: { type: 'string' } },
    arguments: ['tag'],
    optionValues: { 'allowed-signers': 'file', policy: 'file' },
  },
  manifest: { name: 'manifest', positionals: [1, 1], options: {}, arguments: ['tag'] },
  plugins: { name: 'plugins', positionals: [0, 0], options: {} },
  completion: { name: 'completion', positionals: [1, 1], options: {}, arguments: [COMPLETION_SHELLS] },
};

/** Commands about bentoport itself or whole stores, not about bentos or models alone: no `models` form. */
export const TOOL_COMMANDS: ReadonlySet<CommandName> = new Set(['plugins', 'completion', 'sync']);

/** The options `bentoport [models] <command>` accepts: the global ones, the command's, and the model form's. */
export function commandOptions(group: Group, spec: CommandSpec): OptionsConfig {
  return { ...GLOBAL_OPTIONS, ...spec.options, ...(group === 'models' ? spec.models?.options : undefined) };
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** What the command line asks for. */
export type Invocation =
  | { kind: 'help'; topic: 'main' | 'models' | CommandName; group: Group; values: OptionValues }
  | { kind: 'version' }
  | { kind: 'command'; group: Group; command: CommandName; positionals: string[]; values: OptionValues };

export function isCommandName(word: string): word is CommandName {
  return Object.hasOwn(COMMANDS, word);
}

/** Indexes of the command words (`export`, or `models` + `export`), skipping leading options. */
function commandWordIndexes(argv: string[]): number[] {
  const indexes: number[] = [];
  for (let index = 0; index < argv.length && indexes.length < 2; index++) {
    const token = argv[index] as string;
    if (token === '--') break;
    if (token.startsWith('-') && token !== '-') {
      if (GLOBAL_VALUE_FLAGS.has(token)) index += 1;
      continue;
    }
    indexes.push(index);
    if (token !== 'models') break;
  }
  return indexes;
}

/** `export`, or `models export`: a command as usage errors and help name it. */
export function describe(group: Group, command: string): string {
  return group === 'models' ? `models ${command}` : command;
}

/**
 * Parse `argv` (without node and the script) with `node:util` parseArgs.
 * @throws {UsageError} for an unknown command or flag, or a wrong number of arguments.
 */
export function parseCommandLine(argv: string[]): Invocation {
  const wantsHelp = argv.some((token) => token === '-h' || token === '--help');
  const indexes = commandWordIndexes(argv);
  const words = indexes.map((index) => argv[index] as string);
  const rest = argv.filter((_, index) => !indexes.includes(index));

  if (words.length === 0) {
    if (argv.includes('--version')) return { kind: 'version' };
    if (wantsHelp) return { kind: 'help', topic: 'main', group: 'bentos', values: {} };
    throw new UsageError('missing command');
  }
  const group: Group = words[0] === 'models' ? 'models' : 'bentos';
  const commandWord = group === 'models' ? words[1] : words[0];
  if (commandWord === undefined) {
    if (wantsHelp) return { kind: 'help', topic: 'models', group, values: {} };
    throw new UsageError('missing models command (list, get, delete, export, import)', 'models');
  }
  if (!isCommandName(commandWord) || (group === 'models' && TOOL_COMMANDS.has(commandWord))) {
    throw new UsageError(`unknown command '${describe(group, commandWord)}'`, group === 'models' ? 'models' : undefined);
  }
  const spec = COMMANDS[commandWord];
  const label = describe(group, commandWord);
  if (wantsHelp) return { kind: 'help', topic: commandWord, group, values: {} };

  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: commandOptions(group, spec),
      strict: true,
      allowPositionals: true,
    }) as { values: OptionValues; positionals: string[] };
  } catch (error) {
    // parseArgs messages are long and mention `parseArgs`; keep the useful first sentence.
    const message = (error as Error).message.split('. ')[0]?.replace(/\.$/, '') ?? 'invalid arguments';
    throw new UsageError(message, label);
  }
  if (parsed.values.version) return { kind: 'version' };
  const [min, max] = (group === 'models' ? spec.models?.positionals : undefined) ?? spec.positionals;
  if (parsed.positionals.length < min) throw new UsageError(`'${label}' needs ${min === 1 ? 'an argument' : `${min} arguments`}`, label);
  if (parsed.positionals.length > max) {
    throw new UsageError(`'${label}' got an unexpected argument '${parsed.positionals[max]}'`, label);
  }
  return { kind: 'command', group, command: commandWord, positionals: parsed.positionals, values: parsed.values };
}
