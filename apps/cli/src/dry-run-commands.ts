import type { Bentoport, DeletePlan, ExportOptions, ExportPlan, ImportOptions, ImportPlan, PullOptions, PullPlanResult, PushPlanResult } from '@bentoport/core';
import { humanSize } from './render.js';

/**
 * `--dry-run` of export, import, push, pull and delete: core's plan, printed. Nothing is written
 * or sent anywhere; the report is what the user asked for, so `--quiet` does not hide it.
 */

/** Where a dry run prints: the report on stdout, or the plan as one JSON document. */
export interface DryRunOutput {
  json: boolean;
  write(text: string): void;
}

const TYPE = { bento: 'Bento', model: 'Model' } as const;

function sized(bytes: number): string {
  return `${humanSize(bytes)} (${bytes} bytes)`;
}

function report(output: DryRunOutput, plan: unknown, lines: string[]): void {
  output.write(output.json ? `${JSON.stringify(plan, null, 2)}\n` : `${lines.join('\n')}\n`);
}

export function exportLines(plan: ExportPlan): string[] {
  const models = plan.models.length > 0 ? `, with ${plan.models.length === 1 ? 'its model' : `its ${plan.models.length} models`} ${plan.models.join(', ')}` : '';
  return [
    `Would export ${TYPE[plan.kind]}(tag="${plan.tag}") to ${plan.destination} as ${plan.format}: ${sized(plan.contentBytes)} of files before compression${models}.`,
    ...(plan.replaces ? [`Something is at ${plan.destination} already; it would be replaced.`] : []),
    'Nothing was written (dry run).',
  ];
}

export function importLines(plan: ImportPlan): string[] {
  const size = plan.size === undefined ? '' : `, ${sized(plan.size)}`;
  return [`Would import ${plan.source} (${plan.format}${size}) into the ${plan.kind} store ${plan.store}.`, 'Nothing was written (dry run).'];
}

export function pushLines(plan: PushPlanResult): string[] {
  const width = Math.max(...plan.items.map((item) => `${item.kind} ${item.tag}`.length));
  const rows = plan.items.map((item) => `  ${`${item.kind} ${item.tag}`.padEnd(width)}  ${item.present ? 'already there, not sent' : `${sized(item.bytes)} to send`}`);
  return [`Would push to ${plan.registry}:`, ...rows, `${sized(plan.bytesToSend)} to send in all. Nothing was sent (dry run).`];
}

export function pullLines(plan: PullPlanResult): string[] {
  const item = `${TYPE[plan.kind]}(tag="${plan.tag}")`;
  const head = !plan.downloads
    ? `${item} is in the local store; it would not be downloaded (-f replaces it).`
    : plan.remote
      ? `Would pull ${item} from ${plan.registry}${plan.bytes === undefined ? '' : ` (${sized(plan.bytes)})`}${plan.replaces ? ', replacing the local copy once the new one is verified' : ''}.`
      : `${item} is not in ${plan.registry}: a pull would fail.`;
  const models = plan.models.map((model) => `  model ${model.tag}  ${model.local ? 'in the local store' : model.remote ? `missing locally, would be pulled${model.bytes === undefined ? '' : ` (${sized(model.bytes)})`}` : `missing locally and not in the registry`}`);
  return [head, ...models, 'Nothing was downloaded (dry run).'];
}

export function deleteLines(plan: DeletePlan): string[] {
  return [...plan.items.map((item) => `Would delete ${TYPE[item.kind]}(tag="${item.tag}"): ${sized(item.bytes)} at ${item.path}.`), 'Nothing was deleted (dry run).'];
}

export async function dryRunExport(bentoport: Bentoport, kind: 'bento' | 'model', tag: string, out: string, format: string | undefined, options: ExportOptions, output: DryRunOutput): Promise<void> {
  const plan = kind === 'bento' ? await bentoport.dryRun.exportBento(tag, out, format, options) : await bentoport.dryRun.exportModel(tag, out, format, options);
  report(output, plan, exportLines(plan));
}

export async function dryRunImport(bentoport: Bentoport, kind: 'bento' | 'model', source: Parameters<Bentoport['importBento']>[0], format: string | undefined, options: ImportOptions, output: DryRunOutput): Promise<void> {
  const plan = kind === 'bento' ? await bentoport.dryRun.importBento(source, format, options) : await bentoport.dryRun.importModel(source, format, options);
  report(output, plan, importLines(plan));
}

export async function dryRunPush(bentoport: Bentoport, kind: 'bento' | 'model', tag: string, options: { force: boolean; signal: AbortSignal }, output: DryRunOutput): Promise<void> {
  const plan = kind === 'bento' ? await bentoport.dryRun.push(tag, options) : await bentoport.dryRun.pushModel(tag, options);
  report(output, plan, pushLines(plan));
}

export async function dryRunPull(bentoport: Bentoport, kind: 'bento' | 'model', tag: string, options: PullOptions, output: DryRunOutput): Promise<void> {
  const plan = kind === 'bento' ? await bentoport.dryRun.pull(tag, options) : await bentoport.dryRun.pullModel(tag, options);
  report(output, plan, pullLines(plan));
}

export async function dryRunDelete(bentoport: Bentoport, kind: 'bento' | 'model', targets: string[], output: DryRunOutput): Promise<void> {
  const items: DeletePlan['items'] = [];
  for (const target of targets) items.push(...(kind === 'bento' ? await bentoport.dryRun.deleteBento(target) : await bentoport.dryRun.deleteModel(target)).items);
  const plan: DeletePlan = { dryRun: true, items };
  report(output, plan, deleteLines(plan));
}
