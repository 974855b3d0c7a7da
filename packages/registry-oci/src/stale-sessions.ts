import { isTransientNetworkError, LEFTOVER_STALE_AFTER_MS, reportRemovedLeftover, type JournalRecord, type RecordedUpload, type UploadJournal } from '@bentoport/plugin-kit';
import type { ProgressListener } from '@bentoport/spec';
import { discardBody, pushScope, type RegistryClient } from './registry-client.js';
import { COMPONENT } from './registry-failures.js';
import type { LocalState } from './upload-state.js';

/** What the sweep and the records of upload sessions need of the registry instance. */
export interface SessionJournalContext {
  client: RegistryClient;
  /** `host[:port]`, the registry's part of a record's scope. */
  host: string;
  journal: UploadJournal;
  state: LocalState;
}

/** The journal's scope of one repository: registry host and repository. */
export function sessionScope(context: SessionJournalContext, repository: string): string {
  return `${context.host}/${repository}`;
}

/**
 * Write an upload session down for the next run's sweep, in case this process is killed: its
 * `Location` URL (update it after every accepted chunk: the registry checks the state in the
 * URL against its offset), and the resume key its state is saved under (a layer upload's), if any.
 */
export function recordSession(context: SessionJournalContext, repository: string, location: string, resumeKey: string | undefined): Promise<RecordedUpload> {
  return context.journal.record({ component: COMPONENT, scope: sessionScope(context, repository), upload: location, details: resumeKey ? { resumeKey } : {} });
}

/** Whether two session URLs name one session (the registry changes the query as bytes arrive). */
function sameSession(a: string, b: string): boolean {
  try {
    return new URL(a).pathname === new URL(b).pathname;
  } catch {
    return false;
  }
}

/**
 * The resume key of a dead writer's record, when the session is kept for a resume: its saved
 * state names this same session, and it is less than a day old. The next push of the same
 * item continues such a session.
 */
async function keptForResume(context: SessionJournalContext, record: JournalRecord, nowMs: number): Promise<boolean> {
  const resumeKey = record.details?.resumeKey;
  if (resumeKey === undefined || nowMs - record.modifiedMs > LEFTOVER_STALE_AFTER_MS) return false;
  const saved = await context.state.getUpload(resumeKey);
  return saved !== undefined && sameSession(saved.location, record.upload);
}

/**
 * Cancel the upload sessions that killed earlier pushes to `repository` left (a SIGKILL leaves
 * no chance to cancel them), as the journal names them, and say so when the registry confirms.
 * Left alone: live pushes' sessions, and a session whose saved state lets the next push of the
 * same item continue it, for a day. Best effort: never throws.
 */
export async function removeStaleSessions(context: SessionJournalContext, repository: string, onProgress: ProgressListener | undefined): Promise<void> {
  try {
    const nowMs = Date.now();
    for (const record of await context.journal.stale(COMPONENT, sessionScope(context, repository))) {
      if (await keptForResume(context, record, nowMs)) continue;
      const answer = await context.client.request('DELETE', record.upload, { scope: pushScope(repository) }).catch((error: unknown) => error as Error);
      // A registry that does not answer would not answer the next record either: each would wait
      // out its own timeoutMs before the push even starts. The records stay for the next push.
      if (answer instanceof Error && isTransientNetworkError(answer)) return;
      const response = answer instanceof Error ? undefined : answer;
      if (response !== undefined) await discardBody(response);
      // Only a cancellation the registry confirms is reported: a session it no longer knows was
      // completed, or expired, and only the record is left to drop.
      if (response !== undefined && response.status >= 200 && response.status < 300) {
        reportRemovedLeftover(onProgress, 'push', COMPONENT, `unfinished blob upload to ${context.host}/${repository}`);
      }
      const resumeKey = record.details?.resumeKey;
      // A saved state of this session names nothing any more; one of a newer session stays.
      if (resumeKey !== undefined && sameSession((await context.state.getUpload(resumeKey))?.location ?? '', record.upload)) await context.state.deleteUpload(resumeKey);
      await record.remove();
    }
  } catch {
    // The push itself reports what matters.
  }
}

/**
 * A push continues the session an earlier run saved under `resumeKey`: the dead writers'
 * records of it are dropped (the push records the session as its own). Never throws.
 */
export async function forgetContinuedSession(context: SessionJournalContext, repository: string, resumeKey: string): Promise<void> {
  try {
    for (const record of await context.journal.stale(COMPONENT, sessionScope(context, repository))) {
      if (record.details?.resumeKey === resumeKey) await record.remove();
    }
  } catch {
    // At worst the next sweep finds the record and the registry no longer knows its session.
  }
}
