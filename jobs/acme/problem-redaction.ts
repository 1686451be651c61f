/**
 * Pure: takes challenge secrets out of the text of an ACME problem document before it reaches
 * a log line, a Kubernetes Event or the status ConfigMap.
 *
 * When HTTP-01 validation fails, ACME servers quote what they expected and what they got:
 * Pebble writes `… did not match this challenge "<key authorization>" != "<body>"`, Boulder
 * (Let's Encrypt) `… [<key authorization>] != [<body>]`, and both name the challenge URL
 * `/.well-known/acme-challenge/<token>`. A key authorization is `token "." thumbprint`
 * (RFC 8555 §8.1), where the thumbprint is the base64url SHA-256 of the account key (RFC 7638,
 * 43 characters). Whoever holds a pending token and its key authorization can answer that
 * challenge, and the README promises they appear in no log, Event or status: the rest of the
 * message (what failed, for which host, the HTTP status) is kept, it is what an operator needs.
 */

/** What replaces a key authorization. */
export const REDACTED_KEY_AUTHORIZATION = '<key authorization>';
/** What replaces a token. */
export const REDACTED_TOKEN = '<token>';

// base64url token, ".", 43-character base64url thumbprint (SHA-256 per RFC 7638), not part of a
// longer run of such characters.
const KEY_AUTHORIZATION =
  /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_.-])/g;
const CHALLENGE_PATH = /(\/\.well-known\/acme-challenge\/)[A-Za-z0-9_-]+/g;

/**
 * Returns `text` with every key authorization and challenge token replaced by a placeholder:
 * the `known` values (tokens and key authorizations of the run's own challenges) wherever they
 * appear, and anything shaped like a key authorization or standing in a challenge URL's path.
 * Never throws; text without such values is returned unchanged.
 */
export function redactChallengeSecrets(text: string, known: readonly string[] = []): string {
  let redacted = text;
  // Longest first: a key authorization contains its token.
  for (const value of [...known].filter((v) => v.length >= 8).sort((a, b) => b.length - a.length)) {
    const placeholder = value.includes('.') ? REDACTED_KEY_AUTHORIZATION : REDACTED_TOKEN;
    redacted = redacted.split(value).join(placeholder);
  }
  return redacted
    .replace(KEY_AUTHORIZATION, REDACTED_KEY_AUTHORIZATION)
    .replace(CHALLENGE_PATH, `$1${REDACTED_TOKEN}`);
}
