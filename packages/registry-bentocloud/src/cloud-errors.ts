import { BentoportError, isBentoportError, redact, type ErrorCode } from '@bentoport/core';

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

function codeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'ERR_AUTH';
  if (status === 404) return 'ERR_NOT_FOUND';
  return 'ERR_IO';
}

/**
 * One line for a failed BentoCloud call: component, method, the API path (never the token, never
 * a presigned query string), the status, the API's message and, for 5xx, the trace id BentoCloud
 * support asks for.
 */
export function httpStatusError(
  operation: string,
  target: string,
  status: number,
  body: string,
  traceId: string | undefined,
  secret: string,
): BentoportError {
  const detail = describeBody(body).split(secret).join('***');
  const trace = traceId ? ` (trace ID ${traceId}: report it to BentoCloud support)` : '';
  return new BentoportError(codeForStatus(status), redact(`[${COMPONENT}] ${operation} ${target}: ${status}${detail ? ` ${detail}` : ''}${trace}`), {
    details: { status, ...(traceId ? { traceId } : {}) },
  });
}

/** A network failure (no HTTP status), with the token scrubbed from whatever the error says. */
export function networkError(operation: string, target: string, error: unknown, secret: string, signal?: AbortSignal): BentoportError {
  if (isBentoportError(error)) return error;
  if (signal?.aborted) return new BentoportError('ERR_ABORTED', `[${COMPONENT}] ${operation} ${target} was aborted`, { cause: signal.reason });
  const cause = error as { message?: string; code?: string; cause?: { message?: string; code?: string } };
  const reason = [cause?.code, cause?.message, cause?.cause?.code, cause?.cause?.message].filter(Boolean).join(': ');
  return new BentoportError('ERR_IO', redact(`[${COMPONENT}] ${operation} ${target}: ${reason || String(error)}`.split(secret).join('***')), {
    cause: error,
    details: { network: true },
  });
}

/** Whether a failure is worth another attempt: a network error or a 5xx/429 answer. */
export function isRetryable(error: unknown): boolean {
  if (!isBentoportError(error)) return true;
  if (error.code === 'ERR_ABORTED') return false;
  if (error.details.network === true) return true;
  const status = error.details.status;
  return typeof status === 'number' && (status >= 500 || status === 429 || status === 408);
}
