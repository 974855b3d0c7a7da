import type { Readable } from 'node:stream';
import { isBentoportError, type RegistryItemRef, type RegistryPushItem, type RegistryPushOptions, type RegistryPushResult } from '@bentoport/spec';
import { withRetry } from '@bentoport/plugin-kit';
import { CloudApi, type CloudItem } from './cloud-api.js';
import { networkError } from './cloud-errors.js';
import { createSchema } from './cloud-schemas.js';
import type { CloudSession } from './cloud-session.js';
import { progressEmitter, type EventBody } from './progress-emitter.js';
import { ensureRepository, getItem, itemLocation } from './remote-items.js';
import { multipartUpload, proxyUpload, singlePresignedUpload, type UploadTarget } from './uploads.js';

/** How the bytes go: through the API, one presigned PUT, or presigned multipart parts. */
type UploadPlan = { strategy: 'proxy' } | { strategy: 'single'; presignedUrl: string } | { strategy: 'multipart' };

/** One push's fixed facts, handed to each step. */
interface PushRun {
  session: CloudSession;
  item: RegistryPushItem;
  /** `/bento_repositories/{name}/bentos/{version}` (models alike). */
  itemPath: string;
  /** `bento "svc:v1"`, for messages. */
  what: string;
  signal: AbortSignal | undefined;
  emit: (event: EventBody) => void;
}

function skipNotice(ref: RegistryItemRef): string {
  const tag = `${ref.name}:${ref.version}`;
  return ref.kind === 'bento' ? `Push skipped: Bento "${tag}" already exists in remote Bento store` : `Model "${tag}" already exists in remote model store, skipping`;
}

function interruptedNotice(what: string): string {
  return `[registry-bentocloud] starting the upload of ${what} over: an interrupted earlier push left it unfinished (left behind as "uploading")`;
}

/**
 * Push one item with BentoML's flow: the repository (created when missing), the item (skipped
 * when BentoCloud has a finished upload of it, unless `force`), created or updated, then its tar
 * uploaded by the strategy BentoCloud names, and `finish_upload` always sent.
 * @throws {BentoportError} ERR_AUTH, ERR_IO, ERR_ABORTED.
 */
export async function pushItem(session: CloudSession, item: RegistryPushItem, options: RegistryPushOptions): Promise<RegistryPushResult> {
  const { ref } = item;
  const run: PushRun = {
    session,
    item,
    itemPath: CloudApi.itemPath(ref.kind, ref.name, ref.version),
    what: `${ref.kind} "${ref.name}:${ref.version}"`,
    signal: options.signal,
    emit: progressEmitter(options.onProgress, 'push'),
  };
  await ensureRepository(session, ref.kind, ref.name, run.signal);
  const remote = await getItem(session, ref, run.signal);
  if (remote && remote.upload_status === 'success' && !options.force) {
    run.emit({ type: 'notice', message: skipNotice(ref) });
    return { location: itemLocation(session, ref), bytesUploaded: 0 };
  }
  // A push killed mid-upload leaves the version "uploading": BentoCloud takes start_upload again
  // (as for BentoML's push) and drops the unfinished upload, so say that it is replaced.
  if (remote?.upload_status === 'uploading') run.emit({ type: 'notice', message: interruptedNotice(run.what) });
  const plan = await uploadPlan(run, await createOrUpdate(run, remote));
  const length = await session.tarLength(item.entries());
  await session.api().call('PATCH', `${run.itemPath}/start_upload`, undefined, { signal: run.signal });
  run.emit({ type: 'bytes', bytesDone: 0, bytesTotal: length });
  await uploadAndFinish(run, plan, length);
  return { location: itemLocation(session, ref), bytesUploaded: length };
}

/**
 * Create the item, or for an existing bento update it; an existing model is uploaded again
 * without an update call, as BentoML does. Returns BentoCloud's answer.
 */
async function createOrUpdate(run: PushRun, remote: CloudItem | undefined): Promise<CloudItem | undefined> {
  const { ref } = run.item;
  const schema = await createSchema(run.item, (message) => run.emit({ type: 'warning', message }));
  const api = run.session.api();
  if (!remote) return api.call<CloudItem>('POST', `${CloudApi.repositoryPath(ref.kind, ref.name)}/${ref.kind}s`, schema, { signal: run.signal });
  if (ref.kind === 'bento') {
    return api.call<CloudItem>('PATCH', run.itemPath, { description: schema.description, manifest: schema.manifest, labels: schema.labels }, { signal: run.signal });
  }
  return remote;
}

/** The announced `transmission_strategy`, else what `presign_upload_url` answers (a URL: one PUT; none: proxy). */
async function uploadPlan(run: PushRun, answer: CloudItem | undefined): Promise<UploadPlan> {
  if (answer?.transmission_strategy === 'proxy') return { strategy: 'proxy' };
  if (answer?.transmission_strategy === 'presigned_url') return { strategy: 'multipart' };
  const presign = () => run.session.api().call<CloudItem>('PATCH', `${run.itemPath}/presign_upload_url`, undefined, { signal: run.signal });
  const presigned = await withRetry(presign, { ...run.session.retry, ...(run.signal ? { signal: run.signal } : {}) });
  const presignedUrl = presigned?.presigned_upload_url ?? '';
  return presignedUrl ? { strategy: 'single', presignedUrl } : { strategy: 'proxy' };
}

/** Send the tar by the plan, streamed from the store. */
async function uploadBody(run: PushRun, plan: UploadPlan, length: number): Promise<void> {
  const { session, item, signal } = run;
  const openBody = (): Readable => session.format.encode(item.entries(), { format: 'tar', ...(signal ? { signal } : {}) });
  const target: UploadTarget = {
    api: session.api(),
    kind: item.ref.kind,
    name: item.ref.name,
    version: item.ref.version,
    what: run.what,
    signal,
    retry: session.retry,
    onBytes: (bytesDone) => run.emit({ type: 'bytes', bytesDone, bytesTotal: length }),
  };
  if (plan.strategy === 'proxy') await proxyUpload(target, openBody(), length);
  else if (plan.strategy === 'single') await singlePresignedUpload(target, plan.presignedUrl, openBody, length);
  else await multipartUpload(target, openBody, length, { partSize: session.partSize, concurrency: session.concurrency });
}

/**
 * Upload, then `finish_upload` with `success`, also after a proxy upload, which BentoML leaves
 * "uploading"; on any failure or abort with `failed` and the reason, because an upload
 * left "uploading" blocks the version.
 */
async function uploadAndFinish(run: PushRun, plan: UploadPlan, length: number): Promise<void> {
  const { session, signal } = run;
  const finish = (status: 'success' | 'failed', reason: string, finishSignal?: AbortSignal) =>
    session.api().call('PATCH', `${run.itemPath}/finish_upload`, { status, reason }, { signal: finishSignal });
  try {
    await uploadBody(run, plan, length);
  } catch (error) {
    const reason = signal?.aborted ? 'aborted by the client' : error instanceof Error ? error.message : String(error);
    await finish('failed', reason).catch((finishError: unknown) => {
      run.emit({ type: 'warning', message: `could not mark the failed upload of ${run.what} as failed: ${(finishError as Error).message}` });
    });
    if (signal?.aborted) throw networkError('push', run.what, error, session.token(), signal);
    if (isBentoportError(error)) throw error;
    throw networkError('push', run.what, error, session.token());
  }
  await finish('success', '', signal);
}
