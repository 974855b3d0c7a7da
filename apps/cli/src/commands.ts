import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import {
  describeItem,
  directorySize,
  formatTag,
  parseTag,
  type Bentoport,
  type ExportOptions,
  type ExportResult,
  type ImportOptions,
  type ImportResult,
  type StoreItem,
  type TargetOptions,
} from '@bentoport/core';
import { COMPLETION_SHELLS, COMPRESSION_POLICIES, describe, GET_OUTPUTS, LIST_OUTPUTS, UsageError, type CommandName, type Group, type OptionValues } from './command-line.js';
import { completionScript } from './completion-scripts.js';
import type { PluginCatalog } from './plugin-discovery.js';
import { loadFailures, pluginRows, renderPluginTable } from './plugins-command.js';
import { humanSize, localTime, renderListing } from './render.js';
import { runPull, runPush } from './registry-commands.js';
import { registryAddressOf, registryItemArgument, runRegistryGet, runRegistryList, type RegistryListingContext } from './registry-listing-commands.js';
import { isRemoteStoreArgument, runRemoteGet, runRemoteImport, runRemoteList, runSync, type RemoteStoreContext } from './remote-store-commands.js';
import { dryRunDelete, dryRunExport, dryRunImport, type DryRunOutput } from './dry-run-commands.js';
import { runManifest, runSign, runVerify, signaturePolicyOption, signerOption, verifyOptions } from './signing-commands.js';

/** The process streams and environment a command runs against. */
export interface CliIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean; columns?: number };
}

export interface CommandContext {
  bentoport: Bentoport;
  group: Group;
  command: CommandName;
  positionals: string[];
  values: OptionValues;
  /** The environment plugins are made with. */
  env: NodeJS.ProcessEnv;
  io: CliIo;
  signal: AbortSignal;
  /** Remove the progress bar before printing results. */
  finishProgress(): void;
  /** The installed plugins (found on the first call). */
  catalog(): Promise<PluginCatalog>;
}

/** The store operations of one kind, so one implementation serves `bentoport X` and `bentoport models X`. */
interface KindApi {
  type: 'Bento' | 'Model';
  list(tagLike?: string): Promise<StoreItem[]>;
  get(tagLike: string): Promise<StoreItem>;
  delete(tagLike: string): Promise<StoreItem[]>;
  export: Bentoport['exportBento'];
  import: Bentoport['importBento'];
}

function kindApi(bentoport: Bentoport, group: Group): KindApi {
  return group === 'models'
    ? {
        type: 'Model',
        list: (tag) => bentoport.listModels(tag),
        get: (tag) => bentoport.getModel(tag),
        delete: (tag) => bentoport.deleteModel(tag),
        export: (...args) => bentoport.exportModel(...args),
        import: (...args) => bentoport.importModel(...args),
      }
    : {
        type: 'Bento',
        list: (tag) => bentoport.listBentos(tag),
        get: (tag) => bentoport.getBento(tag),
        delete: (tag) => bentoport.deleteBento(tag),
        export: (...args) => bentoport.exportBento(...args),
        import: (...args) => bentoport.importBento(...args),
      };
}

const string = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function isOneOf<T extends string>(value: string, choices: readonly T[]): value is T {
  return (choices as readonly string[]).includes(value);
}

function write(context: CommandContext, text: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
  context.io[stream].write(text);
}

/** Status lines: hidden by --quiet and --json. */
function status(context: CommandContext, text: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
  if (context.values.quiet || context.values.json) return;
  write(context, `${text}\n`, stream);
}

function printJson(context: CommandContext, value: unknown, stream: 'stdout' | 'stderr' = 'stdout'): void {
  write(context, `${JSON.stringify(value, null, 2)}\n`, stream);
}

/** A dry run's report goes to stdout even with --quiet: it is what was asked for. */
function dryRunOutput(context: CommandContext): DryRunOutput | undefined {
  if (!context.values['dry-run']) return undefined;
  return { json: Boolean(context.values.json), write: (text) => write(context, text) };
}

function newestFirst(items: StoreItem[]): StoreItem[] {
  return [...items].sort((a, b) => b.metadata.creationTime - a.metadata.creationTime);
}

/** What `list URL` and `get URL/TAG` take of a command's context. */
function registryListingContext(context: CommandContext, api: KindApi): RegistryListingContext {
  return {
    values: context.values,
    env: context.env,
    catalog: () => context.catalog(),
    signal: context.signal,
    kind: api.type === 'Model' ? 'model' : 'bento',
    write: (text) => write(context, text),
  };
}

async function runList(context: CommandContext, api: KindApi): Promise<void> {
  const output = context.values.json ? 'json' : (string(context.values.output) ?? 'table');
  if (!isOneOf(output, LIST_OUTPUTS)) throw new UsageError(`invalid --output '${output}' (table, json or yaml)`, 'list');
  const [first, second] = context.positionals;
  // A registry first (its plugin's scheme, or docker-style), then any other URL or path: a remote store.
  const address = first === undefined ? undefined : await registryAddressOf(first, context.catalog);
  if (address !== undefined) return runRegistryList(registryListingContext(context, api), address, second, output);
  if (isRemoteStoreArgument(first)) return runRemoteList(remoteStoreContext(context), output);
  // A second argument is for `list URL NAME` only.
  if (second !== undefined) throw new UsageError(`'${describe(context.group, 'list')}' got an unexpected argument '${second}'`, 'list');
  const items = newestFirst(await api.list(first));
  const rows: Record<string, string | number>[] = [];
  for (const item of items) {
    // Sizing a large store takes a while; a signal should not wait for all of it.
    context.signal.throwIfAborted();
    const size = await directorySize(item.path);
    if (api.type === 'Model') {
      rows.push({ tag: formatTag(item.tag), module: item.metadata.module ?? '', size: humanSize(size), creation_time: localTime(item.metadata.creationTime), size_bytes: size, path: item.path });
      continue;
    }
    let modelSize = 0;
    for (const reference of item.metadata.models) {
      if (reference.registry !== 'bentoml') continue;
      const model = await context.bentoport.getModel(formatTag(reference.tag)).catch(() => undefined);
      if (model) modelSize += await directorySize(model.path);
    }
    rows.push({
      tag: formatTag(item.tag),
      size: humanSize(size),
      model_size: humanSize(modelSize),
      creation_time: localTime(item.metadata.creationTime),
      size_bytes: size,
      model_size_bytes: modelSize,
      path: item.path,
    });
  }
  write(context, renderListing(output, api.type, rows));
}

async function runGet(context: CommandContext, api: KindApi): Promise<void> {
  const output = context.values.json ? 'json' : (string(context.values.output) ?? 'yaml');
  if (!isOneOf(output, GET_OUTPUTS)) throw new UsageError(`invalid --output '${output}' (yaml, json or path)`, 'get');
  const remote = await registryItemArgument(context.positionals[0] as string, context.catalog);
  if (remote !== undefined) return runRegistryGet(registryListingContext(context, api), remote.address, remote.tag, output);
  if (isRemoteStoreArgument(context.positionals[0])) return runRemoteGet(remoteStoreContext(context), output);
  const item = await api.get(context.positionals[0] as string);
  if (output === 'path') return write(context, `${item.path}\n`);
  if (output === 'json') return printJson(context, item.metadata.document);
  // The yaml as BentoML wrote it: bentoport never rewrites the user's file.
  write(context, await readFile(path.join(item.path, api.type === 'Bento' ? 'bento.yaml' : 'model.yaml'), 'utf8'));
}

/** BentoML's delete targets: join with spaces, split on ',' if there is one, else on whitespace. */
export function splitTargets(args: string[]): string[] {
  const joined = args.join(' ');
  const parts = joined.includes(',') ? joined.split(',') : joined.split(/\s+/);
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

/** Answers to yes/no questions, read from stdin one line each: typed on a terminal, or piped (`echo y | …`). */
interface Confirmer {
  /** True for y/yes. @throws {Error} when stdin ends before an answer, as BentoML's prompt aborts. */
  ask(question: string): Promise<boolean>;
  close(): void;
}

/**
 * One readline over stdin for every question: a piped `printf 'y\ny\n'` arrives in one chunk, and
 * an interface per question would drop the lines after the first.
 */
function stdinConfirmer(context: CommandContext): Confirmer {
  const prompt = createInterface({ input: context.io.stdin, output: context.io.stderr, terminal: Boolean(context.io.stdin.isTTY) });
  const lines = prompt[Symbol.asyncIterator]();
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(context.signal.reason);
    if (context.signal.aborted) onAbort();
    else context.signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  return {
    async ask(question) {
      context.io.stderr.write(`${question} [y/N]: `);
      const line = await Promise.race([lines.next(), aborted]);
      // A piped answer is not echoed: end the prompt's line so stderr stays one message per line.
      if (!context.io.stdin.isTTY) context.io.stderr.write(`${line.done ? '' : line.value}\n`);
      if (line.done) throw new Error('Aborted! No answer on stdin; pass -y/--yes to delete without asking');
      return /^y(es)?$/i.test(line.value.trim());
    },
    close: () => prompt.close(),
  };
}

/**
 * BentoML's check of a delete target (a name, or `name:version`), as a usage error with its
 * message: a mistyped tag is a mistake in the command line, not a failed deletion.
 */
function checkDeleteTarget(target: string, type: KindApi['type']): void {
  try {
    parseTag(target);
  } catch {
    const what = type === 'Bento' ? ['bento bundle', 'bento bundles', 'my_service:v1,my_service:v2,classifier'] : ['model', 'models', 'my_model:v1,my_model:v2,classifier'];
    throw new UsageError(
      `Bad formatting: "${target}". Please present a valid ${what[0]} name or "name:version" tag. For list of ${what[1]}, separate delete targets by ",", for example: "${what[2]}"`,
      'delete',
    );
  }
}

async function runDelete(context: CommandContext, api: KindApi): Promise<void> {
  const dryRun = dryRunOutput(context);
  if (dryRun) return dryRunDelete(context.bentoport, api.type === 'Bento' ? 'bento' : 'model', splitTargets(context.positionals), dryRun);
  const assumeYes = Boolean(context.values.yes || context.values['assume-yes']);
  const targets = splitTargets(context.positionals);
  // Every target first, so a typo in the third deletes nothing.
  for (const target of targets) checkDeleteTarget(target, api.type);
  const confirmer = assumeYes ? undefined : stdinConfirmer(context);
  try {
    await deleteTargets(context, api, targets, confirmer);
  } finally {
    confirmer?.close();
  }
}

async function deleteTargets(context: CommandContext, api: KindApi, targets: string[], confirmer: Confirmer | undefined): Promise<void> {
  const deleted: string[] = [];
  const word = api.type === 'Bento' ? 'bento' : 'model';
  for (const target of targets) {
    // As BentoML's CLI: a bare name means each of its versions; a tag resolves (prefix, latest) first.
    const items = target.includes(':') ? [await api.get(target)] : await api.list(target);
    for (const item of items) {
      // Between items: the handled signal no longer kills the process halfway through a removal.
      context.signal.throwIfAborted();
      const tag = formatTag(item.tag);
      if (confirmer && !(await confirmer.ask(`delete ${word} ${tag}?`))) continue;
      for (const removed of await api.delete(tag)) {
        deleted.push(formatTag(removed.tag));
        status(context, `${describeItem(removed)} deleted.`);
      }
    }
  }
  if (context.values.json) printJson(context, { deleted });
}

/** BentoML's target fields (`--protocol`, `--user`, `--passwd`, `--param`, `--subpath`) as core takes them. */
export function targetOptions(values: OptionValues, command: CommandName): TargetOptions {
  const options: TargetOptions = {};
  const protocol = string(values.protocol);
  const user = string(values.user);
  const passwd = string(values.passwd);
  const subpath = string(values.subpath);
  if (protocol !== undefined) options.protocol = protocol;
  if (user !== undefined) options.user = user;
  if (passwd !== undefined) options.passwd = passwd;
  if (subpath !== undefined) options.subpath = subpath;
  const params = values.param;
  if (Array.isArray(params)) {
    options.params = {};
    for (const pair of params) {
      const equals = pair.indexOf('=');
      if (equals <= 0) throw new UsageError(`--param needs KEY=VALUE, got '${pair}'`, command);
      options.params[pair.slice(0, equals)] = pair.slice(equals + 1);
    }
  }
  return options;
}

/** Size, and digest when one was taken (none for a folder, or a signed transfer without a .sha256: the signature covers the files). */
function sizeAndDigest(size: number, sha256: string): string {
  return `${humanSize(size)} (${size} bytes)${sha256 === '' ? '' : `, sha256 ${sha256}`}`;
}

async function runExport(context: CommandContext, api: KindApi): Promise<void> {
  const [tag, out = '.'] = context.positionals as [string, string?];
  const compression = string(context.values.compression) ?? 'auto';
  if (!isOneOf(compression, COMPRESSION_POLICIES)) {
    throw new UsageError(`invalid --compression '${compression}' (auto, max or store)`, 'export');
  }
  const toStdout = out === '-';
  if (toStdout && context.io.stdout.isTTY) {
    throw new UsageError('refusing to write an archive to a terminal: redirect stdout or give an output path', 'export');
  }
  if (toStdout && context.values.json) throw new UsageError('--json needs stdout, which carries the archive with OUT -', 'export');
  const options: ExportOptions = {
    ...targetOptions(context.values, context.command),
    compression,
    checksumFile: Boolean(context.values['checksum-file']),
    resume: Boolean(context.values.resume),
    signal: context.signal,
  };
  if (context.values.sign) options.sign = signerOption(context, describe(context.group, 'export'));
  else if (context.values.key !== undefined) throw new UsageError('--key needs --sign (sign the item on the way out)', describe(context.group, 'export'));
  const dryRun = dryRunOutput(context);
  if (dryRun && toStdout) throw new UsageError('--dry-run needs an output path, not - (it prints its report on stdout)', 'export');
  if (dryRun) return dryRunExport(context.bentoport, api.type === 'Bento' ? 'bento' : 'model', tag, out, string(context.values.format), options, dryRun);
  const result: ExportResult = await api.export(tag, toStdout ? context.io.stdout : out, string(context.values.format), options);
  context.finishProgress();
  if (context.values.json) return printJson(context, result);
  // With the archive on stdout, the report goes to stderr.
  const stream = toStdout ? 'stderr' : 'stdout';
  status(context, `${api.type}(tag="${result.tag}") exported to ${result.destination}.`, stream);
  if (result.checksumFile) status(context, `Checksum written to ${result.checksumFile}.`, stream);
  if (result.signatureFile) status(context, `Signature written to ${result.signatureFile}.`, stream);
  status(context, sizeAndDigest(result.size, result.sha256), stream);
}

/** The ImportResult as JSON: the store item reduced to what a script needs. */
function importJson(result: ImportResult): Record<string, unknown> {
  const { item, ...rest } = result;
  return { tag: formatTag(item.tag), kind: item.kind, path: item.path, ...rest };
}

async function runImport(context: CommandContext, api: KindApi): Promise<void> {
  const source = context.positionals[0] as string;
  const fromStdin = source === '-';
  if (fromStdin && context.io.stdin.isTTY) {
    throw new UsageError('refusing to read an archive from a terminal: pipe it into stdin or give a path', 'import');
  }
  const tag = string(context.values.tag);
  if (tag !== undefined) return runRemoteImport(remoteStoreContext(context), tag);
  const options: ImportOptions = { ...targetOptions(context.values, context.command), signal: context.signal };
  const sha256 = string(context.values.sha256);
  if (sha256 !== undefined) options.sha256 = sha256.toLowerCase();
  if (context.values['require-signature']) options.requireSignature = verifyOptions(context, describe(context.group, 'import'));
  else if (context.values['allowed-signers'] !== undefined || context.values.principal !== undefined) {
    throw new UsageError('--allowed-signers and --principal need --require-signature', describe(context.group, 'import'));
  } else {
    const signaturePolicy = await signaturePolicyOption(context);
    if (signaturePolicy) options.signaturePolicy = signaturePolicy;
  }
  const dryRun = dryRunOutput(context);
  if (dryRun) return dryRunImport(context.bentoport, api.type === 'Bento' ? 'bento' : 'model', fromStdin ? context.io.stdin : source, string(context.values.format), options, dryRun);
  const result = await api.import(fromStdin ? context.io.stdin : source, string(context.values.format), options);
  context.finishProgress();
  if (context.values.json) return printJson(context, importJson(result));
  status(context, `${describeItem(result.item)} imported.`);
  // Core reports each embedded model (imported, or kept because the store has it) as a notice or warning on stderr.
  const verified = result.verifiedAgainst === 'option' ? ' (verified against --sha256)' : result.verifiedAgainst === 'checksum-file' ? ' (verified against the .sha256 file)' : '';
  status(context, `${sizeAndDigest(result.size, result.sha256)}${verified}`);
  if (result.signedBy) status(context, `Signature verified: signed by ${result.signedBy.principal} (${result.signedBy.keyFingerprint}).`);
}

async function runPlugins(context: CommandContext): Promise<void> {
  const catalog = await context.catalog();
  const rows = pluginRows(catalog, await loadFailures(catalog, context.env));
  if (context.values.json) return printJson(context, { plugins: rows, skipped: catalog.skipped });
  write(context, renderPluginTable(rows));
  for (const { directory, reason } of catalog.skipped) status(context, `Skipped ${directory}: ${reason}`, 'stderr');
}

/** Print the completion script of the shell named. */
function runCompletion(context: CommandContext): void {
  const shell = context.positionals[0] as string;
  if (!isOneOf(shell, COMPLETION_SHELLS)) throw new UsageError(`unknown shell '${shell}' (bash, zsh or fish)`, 'completion');
  write(context, completionScript(shell));
}

/** What the remote-store commands take of a command's context. */
function remoteStoreContext(context: CommandContext): RemoteStoreContext {
  return {
    ...context,
    print: (text) => status(context, text),
    write: (text) => write(context, text),
    printJson: (value) => printJson(context, value),
  };
}

/** Run one parsed command. */
export async function runCommand(context: CommandContext): Promise<void> {
  const api = kindApi(context.bentoport, context.group);
  switch (context.command) {
    case 'list':
      return runList(context, api);
    case 'get':
      return runGet(context, api);
    case 'delete':
      return runDelete(context, api);
    case 'export':
      return runExport(context, api);
    case 'import':
      return runImport(context, api);
    case 'sign':
    case 'verify':
    case 'manifest': {
      const signingContext = {
        ...context,
        json: Boolean(context.values.json),
        print: (text: string) => status(context, text),
        write: (text: string) => write(context, text),
        printJson: (value: unknown) => printJson(context, value),
      };
      const run = { sign: runSign, verify: runVerify, manifest: runManifest }[context.command];
      return run(signingContext);
    }
    case 'plugins':
      return runPlugins(context);
    case 'sync':
      return runSync(remoteStoreContext(context));
    case 'completion':
      return runCompletion(context);
    case 'push':
    case 'pull': {
      const registryContext = {
        ...context,
        kind: context.group === 'models' ? ('model' as const) : ('bento' as const),
        print: (text: string) => status(context, text),
        write: (text: string) => write(context, text),
        printJson: (value: unknown) => printJson(context, value),
      };
      return context.command === 'push' ? runPush(registryContext) : runPull(registryContext);
    }
  }
}
