import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import type { Bentoport, SyncItem, SyncOptions, SyncResult } from '@bentoport/core';
import { UsageError, type Group, type OptionValues } from './command-line.js';
import { humanSize, localTime, renderTable, renderYamlList } from './render.js';

/**
 * `sync SRC DST`, and `list URL`, `get URL/TAG`, `import URL --tag TAG` on remote stores. A
 * remote store is named by a path or URL with a `/` in it (`s3://bucket/prefix/`,
 * `/mnt/usb/bentos/`, `./release/`); a local name or tag never has one.
 */

/** What these commands take of a command's context. */
export interface RemoteStoreContext {
  bentoport: Bentoport;
  group: Group;
  positionals: string[];
  values: OptionValues;
  signal: AbortSignal;
  io: { stdin: Readable & { isTTY?: boolean }; stdout: Writable; stderr: Writable };
  finishProgress(): void;
  print(text: string): void;
  write(text: string): void;
  printJson(value: unknown): void;
}

/** Whether a `list`/`get`/`import` argument names a remote store rather than a local name or file. */
export function isRemoteStoreArgument(argument: string | undefined): boolean {
  return argument !== undefined && argument.includes('/');
}

const string = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The rows `list` prints, with the local list's columns. */
function listRows(items: SyncItem[], models: SyncItem[], group: Group): Record<string, string | number>[] {
  const modelSize = new Map(models.map((model) => [`${model.name}:${model.version}`, model.size ?? 0]));
  return [...items]
    .sort((a, b) => b.creationTime - a.creationTime)
    .map((item): Record<string, string | number> => {
      const size = item.size ?? 0;
      if (group === 'models') return { tag: `${item.name}:${item.version}`, module: item.module ?? '', size: humanSize(size), creation_time: localTime(item.creationTime), size_bytes: size };
      const needed = item.models.reduce((sum, model) => sum + (modelSize.get(`${model.name}:${model.version}`) ?? 0), 0);
      return {
        tag: `${item.name}:${item.version}`,
        size: humanSize(size),
        model_size: humanSize(needed),
        creation_time: localTime(item.creationTime),
        size_bytes: size,
        model_size_bytes: needed,
      };
    });
}

/** `bentoport [models] list URL [NAME]`: the same columns and outputs as the local list, from the store's index. */
export async function runRemoteList(context: RemoteStoreContext, output: 'table' | 'json' | 'yaml'): Promise<void> {
  const [url, name] = context.positionals as [string, string?];
  const call = { signal: context.signal };
  const items = context.group === 'models' ? await context.bentoport.listRemoteModels(url, name, call) : await context.bentoport.listRemoteBentos(url, name, call);
  const models = context.group === 'models' ? [] : await context.bentoport.listRemoteModels(url, undefined, call);
  const rows = listRows(items, models, context.group);
  if (output === 'json') return context.printJson(rows);
  if (output === 'yaml') return context.write(renderYamlList(rows));
  context.write(
    context.group === 'models'
      ? renderTable(['Tag', 'Module', 'Size', 'Creation Time'], rows.map((row) => [row.tag, row.module, row.size, row.creation_time].map(String)))
      : renderTable(['Tag', 'Size', 'Model Size', 'Creation Time'], rows.map((row) => [row.tag, row.size, row.model_size, row.creation_time].map(String))),
  );
}

/** Split `URL/TAG` at its last `/`. */
function storeAndTag(argument: string, command: string): { url: string; tag: string } {
  const slash = argument.lastIndexOf('/');
  const tag = argument.slice(slash + 1);
  if (tag === '') throw new UsageError(`'${command}' needs URL/TAG: name the item after the store, e.g. s3://bucket/release/iris:latest`, 'get');
  return { url: argument.slice(0, slash + 1), tag };
}

/** `bentoport [models] get URL/TAG`: the item's yaml document (or json), read from the archive's head. */
export async function runRemoteGet(context: RemoteStoreContext, output: 'yaml' | 'json' | 'path'): Promise<void> {
  const command = context.group === 'models' ? 'models get' : 'get';
  const { url, tag } = storeAndTag(context.positionals[0] as string, command);
  const call = { signal: context.signal };
  const item = context.group === 'models' ? await context.bentoport.getRemoteModel(url, tag, call) : await context.bentoport.getRemoteBento(url, tag, call);
  if (output === 'path') throw new UsageError(`-o path names a local directory; a remote item has none (use -o yaml or json)`, 'get');
  if (output === 'json') return context.printJson(item.document);
  // The yaml as BentoML wrote it, as the local `get` prints it.
  context.write(item.yaml);
}

function printSync(context: RemoteStoreContext, result: SyncResult): void {
  context.finishProgress();
  if (context.values.json) return context.printJson(result);
  const verb = result.dryRun ? 'Would send' : 'Sent';
  for (const item of result.sent) context.print(`${verb} ${item.kind} ${item.tag}${item.bytes === undefined ? '' : ` (${humanSize(item.bytes)})`}`);
  for (const item of result.removed) context.print(`${result.dryRun ? 'Would remove' : 'Removed'} ${item.kind} ${item.tag}`);
  const bytes = result.bytesSent === undefined ? '' : `, ${humanSize(result.bytesSent)} (${result.bytesSent} bytes)`;
  context.print(`${verb} ${result.sent.length} item(s) to ${result.destination}${bytes}; ${result.present.length} already there.`);
}

/** `-y` answered, or ask on stdin (typed or piped) before removing anything. */
async function confirmRemoval(context: RemoteStoreContext, removals: SyncResult['removed'], destination: string): Promise<boolean> {
  if (removals.length === 0 || context.values.yes || context.values['assume-yes']) return true;
  const prompt = createInterface({ input: context.io.stdin, output: context.io.stderr, terminal: Boolean(context.io.stdin.isTTY) });
  try {
    const list = removals.map((item) => `${item.kind} ${item.tag}`).join(', ');
    context.io.stderr.write(`remove ${removals.length} item(s) from ${destination} that the source no longer has (${list})? [y/N]: `);
    // The line iterator, not question(): it ends when stdin does, where question() never settles.
    const line = await prompt[Symbol.asyncIterator]().next();
    if (!context.io.stdin.isTTY) context.io.stderr.write(`${line.done ? '' : String(line.value)}\n`);
    if (line.done) throw new UsageError('--delete needs a confirmation: answer y on stdin, or pass -y/--yes', 'sync');
    return /^y(es)?$/i.test(String(line.value).trim());
  } finally {
    prompt.close();
  }
}

/** The options of `sync`, checked. */
function syncOptions(context: RemoteStoreContext): SyncOptions {
  const options: SyncOptions = { signal: context.signal };
  const filter = context.values.filter;
  if (Array.isArray(filter)) options.filter = filter;
  if (context.values.latest) options.latest = true;
  const format = string(context.values.format);
  if (format !== undefined) options.format = format;
  const concurrency = string(context.values.concurrency);
  if (concurrency !== undefined) {
    const count = Number(concurrency);
    if (!Number.isInteger(count) || count < 1 || count > 64) throw new UsageError(`--concurrency must be a whole number from 1 to 64, got '${concurrency}'`, 'sync');
    options.concurrency = count;
  }
  return options;
}

/**
 * `bentoport sync SRC DST`: `local` names the local store. With `--delete`, the removals are
 * planned first and confirmed (or `-y`), then the sync runs.
 */
export async function runSync(context: RemoteStoreContext): Promise<void> {
  const [source, destination] = context.positionals as [string, string];
  const options = syncOptions(context);
  if (context.values['dry-run']) return printSync(context, await context.bentoport.sync(source, destination, { ...options, dryRun: true, delete: Boolean(context.values.delete) }));
  if (context.values.delete) {
    const plan = await context.bentoport.sync(source, destination, { ...options, dryRun: true, delete: true });
    context.finishProgress();
    const confirmed = await confirmRemoval(context, plan.removed, plan.destination);
    options.delete = confirmed;
    if (!confirmed) context.print('Nothing will be removed.');
  }
  printSync(context, await context.bentoport.sync(source, destination, options));
}

/** `bentoport import URL --tag TAG`: one bento and exactly the models it needs. */
export async function runRemoteImport(context: RemoteStoreContext, tag: string): Promise<void> {
  if (context.group === 'models') throw new UsageError('--tag imports a bento with its models; for a model alone, use bentoport sync URL local --filter NAME:VERSION', 'import');
  const url = context.positionals[0] as string;
  const result = await context.bentoport.importFromRemoteStore(url, tag, { signal: context.signal });
  printSync(context, result);
}
