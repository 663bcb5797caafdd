/**
 * What an attempt keeps of the receiver's answer: the first 1 KB of its response body, with the
 * endpoint's signing secrets blanked should a receiver echo one. Never request headers (they
 * carry the signature), never more than the cap. Pure.
 */

/** Bytes of a receiver's response body kept with each attempt. */
export const EVIDENCE_BODY_BYTES = 1024;
const REDACTED = '[redacted]';

export interface ResponseEvidence {
  readonly responseBody: string;
  /** The receiver sent more than `EVIDENCE_BODY_BYTES` bytes (only the start is kept). */
  readonly responseBodyTruncated?: true;
}

/** The first `maxBytes` of `text` in UTF-8, never splitting a character. */
export function utf8Prefix(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so the cut falls between characters.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString('utf8');
}

/**
 * The evidence of one response. `body` may be longer than the cap (the client reads a little
 * more to know whether there was more); secrets are blanked before the cut, so a secret straddling
 * the cut cannot leave its start behind.
 */
export function responseEvidence(body: string, secrets: readonly string[]): ResponseEvidence {
  let clean = body;
  for (const secret of secrets) {
    // The whole secret and its key part (receivers may echo either).
    const key = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
    for (const needle of [secret, key]) if (needle.length >= 16) clean = clean.split(needle).join(REDACTED);
  }
  const kept = utf8Prefix(clean, EVIDENCE_BODY_BYTES);
  return kept.length < clean.length
    ? { responseBody: kept, responseBodyTruncated: true }
    : { responseBody: kept };
}
