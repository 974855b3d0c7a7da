import { isBentoportError, type BentoportError } from '@bentoport/spec';
import { errorCodeForHttpStatus, isTlsVerificationError, isTransientHttpStatus, isTransientNetworkError, pluginFailure } from '@bentoport/plugin-kit';

export const COMPONENT = 'registry-bentocloud';

/** The most a response body may add to a message, so an HTML error page stays one readable line. */
const BODY_LIMIT = 300;

/** A response body as one line: the API's `message` (or `error`) when it sent JSON, else the text. */
export function describeBody(text: string): string {
  let shown = text;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null) {
      const fields = parsed as Record<string, unknown>;
      const message = fields.message ?? fields.error ?? fields.detail;
      if (typeof message === 'string' && message !== '') shown = message;
    }
  } catch {
    // not JSON: show the text
  }
  const flat = shown.replace(/\s+/g, ' ').trim();
  return flat.length > BODY_LIMIT ? `${flat.slice(0, BODY_LIMIT)}…` : flat;
}

/**
 * One line for a failed BentoCloud call: component, method, the API path (never the token, never
 * a presigned query string), the status, the API's message and, for 5xx, the trace id BentoCloud
 * support asks for. Marked transient (worth a retry) for 408, 429 and the 5xx of a busy server.
 */
export function httpStatusError(operation: string, target: string, status: number, body: string, traceId: string | undefined, secret: string): BentoportError {
  const detail = describeBody(body);
  const trace = traceId ? ` (trace ID ${traceId}: report it to BentoCloud support)` : '';
  return pluginFailure(COMPONENT, errorCodeForHttpStatus(status), operation, target, `${status}${detail ? ` ${detail}` : ''}${trace}`, {
    secrets: [secret],
    transient: isTransientHttpStatus(status),
    details: { status, ...(traceId ? { traceId } : {}) },
  });
}

/**
 * A failure without an HTTP status, with the token scrubbed from whatever the error says:
 * ERR_ABORTED when the signal fired, ERR_AUTH for a certificate that does not verify, else ERR_IO,
 * transient when the same request may succeed (a reset, a timeout).
 */
export function networkError(operation: string, target: string, error: unknown, secret: string, signal?: AbortSignal): BentoportError {
  if (isBentoportError(error)) return error;
  if (signal?.aborted) return pluginFailure(COMPONENT, 'ERR_ABORTED', operation, target, 'aborted', { cause: signal.reason });
  const cause = error as { message?: string; code?: string; cause?: { message?: string; code?: string } };
  const reason = [cause?.code, cause?.message, cause?.cause?.code, cause?.cause?.message].filter(Boolean).join(': ');
  if (isTlsVerificationError(error)) {
    return pluginFailure(COMPONENT, 'ERR_AUTH', operation, target, `${reason} (trust its CA with the ca option, or set rejectUnauthorized: false)`, { cause: error, secrets: [secret] });
  }
  return pluginFailure(COMPONENT, 'ERR_IO', operation, target, reason || String(error), { cause: error, secrets: [secret], transient: isTransientNetworkError(error) });
}
