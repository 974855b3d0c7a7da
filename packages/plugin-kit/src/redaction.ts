/**
 * Query parameters whose values are secrets: presigned URL signatures and tokens (S3, GCS, Azure
 * SAS, CloudFront) and the `header.*` parameters transports turn into request headers. A value
 * ends at `&`, `#`, white space, or the `: ` that ends the target of a plugin's message.
 */
const SECRET_QUERY_VALUE =
  /([?&](?:x-amz-signature|x-amz-security-token|x-amz-credential|x-goog-signature|x-goog-credential|signature|sig|key-pair-id|policy|token|access_token|password|passwd|secret|api_key|apikey|header\.[^=&#\s]*)=)(?:(?!: )[^&#\s])*/gi;

/**
 * Replace the password of every `scheme://user:password@` in a string with `***`, and the value
 * of every secret query parameter (`X-Amz-Signature=***`, `header.Authorization=***`).
 */
export function redact(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]*@/gi, '$1***@').replace(SECRET_QUERY_VALUE, '$1***');
}

/**
 * Secrets at least this long are hidden wherever they appear, even inside a longer word
 * (`hunter2x`); a longer secret is unlikely to be part of ordinary words by chance.
 */
const ANYWHERE_MIN_LENGTH = 6;

/**
 * `secret` replaced with `***`: a short one only where it stands as a whole token, not where it
 * is part of a longer word. The password `p` must not turn `transport-ftp` into
 * `trans***ort-ft***`, which both garbles the message and spells out where the secret's letters
 * are. A secret of {@link ANYWHERE_MIN_LENGTH} characters or more is replaced everywhere.
 */
function replaceWholeToken(text: string, secret: string): string {
  const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (secret.length >= ANYWHERE_MIN_LENGTH) return text.split(secret).join('***');
  const before = /^[A-Za-z0-9]/.test(secret) ? '(?<![A-Za-z0-9])' : '';
  const after = /[A-Za-z0-9]$/.test(secret) ? '(?![A-Za-z0-9])' : '';
  return text.replace(new RegExp(`${before}${escaped}${after}`, 'g'), '***');
}

/**
 * `redact(text)` (URL passwords and secret query values), then every given secret (a password,
 * a passphrase, a token), raw or URL-encoded, replaced with `***` (a short one only where it
 * stands as a whole token). For plugins whose credentials also reach messages outside a URL.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let result = redact(text);
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    result = replaceWholeToken(result, secret);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) result = replaceWholeToken(result, encoded);
  }
  return result;
}

/**
 * The same error with the secrets scrubbed from its message and stack, so a `cause` attached to a
 * BentoportError cannot leak a password when it is logged. Returns its argument.
 */
export function redactErrorSecrets<T>(error: T, secrets: readonly string[]): T {
  if (error instanceof Error) {
    try {
      error.message = redactSecrets(error.message, secrets);
      if (error.stack !== undefined) error.stack = redactSecrets(error.stack, secrets);
    } catch {
      // Read-only (a DOMException): such errors never carry a password.
    }
  }
  return error;
}
