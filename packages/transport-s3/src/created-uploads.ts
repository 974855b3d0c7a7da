import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { withRetry, type JournalRecord, type RetryOptions } from '@bentoport/plugin-kit';
import type { S3Target } from './s3-location.js';

/** Pages of ListMultipartUploads read at most (1,000 uploads a page): bounds the loop. */
const MAX_PAGES = 20;

/**
 * How far S3's clock may be from ours. S3 refuses a signed request whose time is more than 15
 * minutes from its own (RequestTimeTooSkewed), so an upload our CreateMultipartUpload made
 * carries an `Initiated` time within 15 minutes of our clock when we sent it.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 15 * 60 * 1000;

/**
 * When the writer asked S3 for an upload, as the journal record's details hold it. Written before
 * the first CreateMultipartUpload and again before every retry and once the answer arrives, so a
 * record names the span in which its upload (or uploads: an attempt whose answer was lost may
 * have made one as well) was initiated, even when no id ever arrived.
 */
export interface CreateWindow {
  /** Our clock when the first attempt started, ms since the epoch. */
  startedMs: number;
  /** Our clock when the last attempt started, or its answer arrived. */
  untilMs: number;
  /** Attempts made so far. */
  attempts: number;
}

/** The window as journal details (strings). */
export function windowDetails(window: CreateWindow): Record<string, string> {
  return { createStartedMs: String(window.startedMs), createUntilMs: String(window.untilMs), createAttempts: String(window.attempts) };
}

/** The window a record holds; undefined for a record written before windows were (a known id, nothing else). */
export function recordedWindow(details: Record<string, string> | undefined): CreateWindow | undefined {
  const startedMs = Number(details?.createStartedMs);
  if (!Number.isFinite(startedMs) || startedMs <= 0) return undefined;
  const untilMs = Number(details?.createUntilMs);
  const attempts = Number(details?.createAttempts);
  return { startedMs, untilMs: Number.isFinite(untilMs) && untilMs >= startedMs ? untilMs : startedMs, attempts: Number.isInteger(attempts) && attempts > 0 ? attempts : 1 };
}

/**
 * Whether the upload id alone does not name everything the write made at the key: no answer
 * arrived (the id is unknown), or an earlier attempt was retried (its answer was lost, and S3
 * may have made an upload for it all the same).
 */
export function isUncertain(window: CreateWindow | undefined, uploadId: string | undefined): boolean {
  return window !== undefined && (uploadId === undefined || uploadId === '' || window.attempts > 1);
}

/**
 * Whether S3's `Initiated` time falls in the window, widened by {@link CLOCK_SKEW_ALLOWANCE_MS} on
 * both sides: from 15 minutes before the first attempt to 15 minutes after the last one started.
 * An upload without an `Initiated` time is not matched.
 */
export function initiatedWithin(window: CreateWindow, initiatedMs: number | undefined): boolean {
  if (initiatedMs === undefined) return false;
  return initiatedMs >= window.startedMs - CLOCK_SKEW_ALLOWANCE_MS && initiatedMs <= window.untilMs + CLOCK_SKEW_ALLOWANCE_MS;
}

/** The unfinished multipart uploads to exactly this key: id → `Initiated` (ms, when S3 gave one). */
export async function listKeyUploads(client: S3Client, target: S3Target, signal: AbortSignal | undefined): Promise<Map<string, number | undefined>> {
  const uploads = new Map<string, number | undefined>();
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const listed = await client.send(
      new ListMultipartUploadsCommand({ Bucket: target.bucket, Prefix: target.key, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      { abortSignal: signal },
    );
    for (const upload of listed.Uploads ?? []) {
      if (upload.Key === target.key && upload.UploadId !== undefined) uploads.set(upload.UploadId, upload.Initiated?.getTime());
    }
    if (!listed.IsTruncated) break;
    keyMarker = listed.NextKeyMarker;
    uploadIdMarker = listed.NextUploadIdMarker;
  }
  return uploads;
}

/** One writer's uploads to find: its known id (if any) and its window (if recorded). */
export interface WriterUploads {
  uploadId: string | undefined;
  window: CreateWindow | undefined;
}

/**
 * The listed uploads that are the writer's: its known id, and when {@link isUncertain} every
 * upload initiated in its window, except those that `claimed` names (other writers' uploads, as
 * the journal names them, or the one a resume continues). An upload of another tool to the same
 * key started in the window is indistinguishable from ours and is removed too: the price of not
 * leaving one behind, paid only after a CreateMultipartUpload whose answer was lost.
 */
export function writerUploads(writer: WriterUploads, listed: Map<string, number | undefined>, claimed: ReadonlySet<string>): string[] {
  const found = new Set<string>();
  if (writer.uploadId !== undefined && writer.uploadId !== '' && listed.has(writer.uploadId)) found.add(writer.uploadId);
  if (writer.window !== undefined && isUncertain(writer.window, writer.uploadId)) {
    for (const [id, initiatedMs] of listed) if (!claimed.has(id) && initiatedWithin(writer.window, initiatedMs)) found.add(id);
  }
  return [...found];
}

/** The uploads other journal records of the key name: not `own`'s to remove. */
export function claimedByOthers(records: readonly JournalRecord[], own: string | undefined): Set<string> {
  return new Set(records.map((record) => record.upload).filter((upload) => upload !== '' && upload !== own));
}

/** What {@link removeWriterUploads} needs. */
export interface WriterUploadRemoval extends WriterUploads {
  client: S3Client;
  target: S3Target;
  /** Uploads not to touch (see {@link claimedByOthers}). */
  claimed: ReadonlySet<string>;
  /** How the listing is retried. */
  retry: RetryOptions;
  /** AbortMultipartUpload until no part is left; whether the upload is gone. Never throws. */
  abort(uploadId: string): Promise<boolean>;
}

/**
 * Abort every upload {@link writerUploads} finds. Never throws.
 * @returns whether none is left (false when S3 could not be asked, or refused an abort), and how many were aborted.
 */
export async function removeWriterUploads(removal: WriterUploadRemoval): Promise<{ gone: boolean; aborted: number }> {
  let listed: Map<string, number | undefined>;
  try {
    listed = await withRetry(() => listKeyUploads(removal.client, removal.target, removal.retry.signal), removal.retry);
  } catch {
    return { gone: false, aborted: 0 };
  }
  let gone = true;
  let aborted = 0;
  for (const id of writerUploads(removal, listed, removal.claimed)) {
    if (await removal.abort(id)) aborted += 1;
    else gone = false;
  }
  return { gone, aborted };
}
