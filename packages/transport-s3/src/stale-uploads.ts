import type { S3Client } from '@aws-sdk/client-s3';
import { LEFTOVER_STALE_AFTER_MS, reportRemovedLeftover, type JournalRecord, type UploadJournal } from '@bentoport/plugin-kit';
import type { ProgressListener } from '@bentoport/spec';
import { claimedByOthers, listKeyUploads, recordedWindow, writerUploads } from './created-uploads.js';
import { COMPONENT } from './s3-failure.js';
import type { S3Target } from './s3-location.js';

/**
 * The journal's scope of one object: the endpoint's origin (never its credentials), bucket and
 * key. The default endpoint (AWS, or a ready client's) is `default`.
 */
export function uploadScope(endpoint: string | undefined, target: S3Target): string {
  let origin = 'default';
  if (endpoint !== undefined) {
    try {
      origin = new URL(endpoint).origin;
    } catch {
      origin = 'unparsable-endpoint';
    }
  }
  return JSON.stringify([origin, target.bucket, target.key]);
}

/** What {@link removeStaleUploads} needs. */
export interface StaleUploadSweep {
  client: S3Client;
  target: S3Target;
  journal: UploadJournal;
  scope: string;
  /** The location's display form, for the notice. */
  display: string;
  /** This write continues an unfinished upload: every leftover may be the one it continues. */
  resume: boolean;
  onProgress: ProgressListener | undefined;
  signal: AbortSignal | undefined;
  /** AbortMultipartUpload until no part is left; whether the upload is gone. Never throws. */
  abort(uploadId: string): Promise<boolean>;
}

/** Whether a record is of a `resume` write that kept its upload on purpose, less than a day ago. */
function keptForResume(record: JournalRecord, nowMs: number): boolean {
  return record.details?.resume === 'true' && nowMs - record.modifiedMs <= LEFTOVER_STALE_AFTER_MS;
}

/**
 * Abort the uploads of the given records that the server still lists, say so, and drop the
 * records. The server's listing is the cross-check: an upload it does not list was completed or
 * aborted meanwhile. A record whose CreateMultipartUpload answer never arrived (or was retried)
 * also takes the key's uploads initiated in its time window (see `writerUploads`), except those
 * other records name and `keep`. A record whose abort S3 did not take stays for the next write.
 */
async function removeRecorded(sweep: StaleUploadSweep, records: JournalRecord[], keep?: string): Promise<void> {
  if (records.length === 0) return;
  const listed = await listKeyUploads(sweep.client, sweep.target, sweep.signal);
  const everyRecord = await sweep.journal.list(COMPONENT, sweep.scope);
  for (const record of records) {
    const claimed = claimedByOthers(everyRecord, record.upload);
    if (keep !== undefined) claimed.add(keep);
    const found = writerUploads({ uploadId: record.upload, window: recordedWindow(record.details) }, listed, claimed);
    let gone = true;
    for (const id of found) {
      if (await sweep.abort(id)) listed.delete(id);
      else gone = false;
    }
    if (!gone) continue;
    if (found.length > 0) reportRemovedLeftover(sweep.onProgress, 'export', COMPONENT, `unfinished multipart upload to ${sweep.display}`);
    await record.remove();
  }
}

/**
 * Abort the multipart uploads that killed earlier writes to this key left (a SIGKILL leaves no
 * chance to `abort`), as the journal names them, and say so. Left alone: live writers' uploads,
 * any upload the journal does not name (another tool's), and an upload a `resume` write kept for
 * the next resume, for a day. Before a `resume` write nothing is removed: any leftover may be
 * the one it continues (see {@link forgetAdopted}). Best effort: never throws.
 */
export async function removeStaleUploads(sweep: StaleUploadSweep): Promise<void> {
  if (sweep.resume) return;
  try {
    const nowMs = Date.now();
    await removeRecorded(sweep, (await sweep.journal.stale(COMPONENT, sweep.scope)).filter((record) => !keptForResume(record, nowMs)));
  } catch {
    // The write itself reports what matters.
  }
}

/**
 * Once a `resume` write has picked the upload it continues (`uploadId`, or none): the dead
 * writers' records naming it are dropped (the write records it as its own), and the uploads of
 * the others, which no resume picks again (it takes the newest), are removed. Never throws.
 */
export async function forgetAdopted(sweep: StaleUploadSweep, uploadId: string | undefined): Promise<void> {
  try {
    const stale = await sweep.journal.stale(COMPONENT, sweep.scope);
    for (const record of stale) if (record.upload === uploadId) await record.remove();
    await removeRecorded(sweep, stale.filter((record) => record.upload !== uploadId), uploadId);
  } catch {
    // The write itself reports what matters.
  }
}
