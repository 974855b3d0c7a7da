import type { BentoportError } from '@bentoport/spec';
import { errorCodeForHttpStatus, isTlsVerificationError, isTransientHttpStatus, isTransientNetworkError, pluginFailure } from '@bentoport/plugin-kit';
import type { RegistryResponse } from './registry-response.js';

/** The plugin's name, as every message starts with it. */
export const COMPONENT = 'registry-oci';

/** The registry's error codes and messages from a JSON error body, for one-line messages. */
export async function errorSummary(response: RegistryResponse): Promise<string> {
  let text = '';
  try {
    text = (await response.text()).slice(0, 2000);
  } catch {
    return '';
  }
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    const parts = (body.errors ?? []).map((error) => [error.code, error.message].filter(Boolean).join(': '));
    if (parts.length > 0) return parts.join('; ');
  } catch {
    // Not JSON: the first line of the text says it.
  }
  return text.trim().split('\n')[0] ?? '';
}

/**
 * A coded error for an unexpected answer: 401/403 → ERR_AUTH, 404 → ERR_NOT_FOUND, else ERR_IO
 * (marked transient for 408, 429 and the 5xx of a struggling registry), with the registry's own
 * error codes in the message, or worded as the proxy's refusal when a proxy answered in the
 * registry's stead. Consumes the body.
 */
export async function statusFailure(response: RegistryResponse, method: string, target: string): Promise<BentoportError> {
  const summary = await errorSummary(response);
  const code = errorCodeForHttpStatus(response.status);
  const proxy = refusingProxy(response);
  const reason =
    proxy === undefined
      ? `${response.status} ${response.statusText}${summary ? ` (${summary})` : ''}${code === 'ERR_AUTH' ? ': credentials missing or refused' : ''}`
      : `the proxy ${proxy} refused the request with ${response.status} ${response.statusText}${summary ? ` (${summary})` : ''}; check HTTP_PROXY/NO_PROXY`;
  return pluginFailure(COMPONENT, code, method, target, reason, {
    transient: isTransientHttpStatus(response.status),
    details: { status: response.status, ...(summary ? { summary } : {}) },
  });
}

/**
 * The proxy whose own answer this is: one forwarded by a proxy that lacks the header every
 * distribution API answer carries (`Docker-Distribution-API-Version`), so the registry never saw it.
 */
function refusingProxy(response: RegistryResponse): string | undefined {
  if (response.proxy === undefined || response.headers.get('docker-distribution-api-version') !== null) return undefined;
  return response.proxy;
}

/**
 * A coded error for a request that got no answer: ERR_ABORTED when the signal fired, ERR_AUTH for
 * a certificate that does not verify, else ERR_IO, marked transient when the same request may
 * succeed (a reset, a timeout).
 */
export function networkFailure(error: unknown, method: string, url: string): BentoportError {
  if ((error as Error | undefined)?.name === 'AbortError') return pluginFailure(COMPONENT, 'ERR_ABORTED', method, url, 'aborted', { cause: error });
  const cause = (error as { cause?: { message?: string } }).cause;
  const reason = cause?.message ?? (error as Error).message;
  if (isTlsVerificationError(error)) {
    return pluginFailure(COMPONENT, 'ERR_AUTH', method, url, `${reason} (trust its CA with the ca option, or set rejectUnauthorized: false)`, { cause: error });
  }
  return pluginFailure(COMPONENT, 'ERR_IO', method, url, reason, { cause: error, transient: isTransientNetworkError(error) });
}
