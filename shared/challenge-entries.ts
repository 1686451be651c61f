/**
 * The challenge ConfigMap's format, shared by the job (writer) and the responder (reader).
 *
 * One key per pending HTTP-01 challenge: the key is the token, the value a JSON object
 * `{"domain": "...", "keyAuthorization": "..."}`. A token is base64url (RFC 8555 §8.3: "a random
 * value that uniquely identifies the challenge ... MUST NOT contain any characters outside the
 * base64url alphabet"), which is also a valid ConfigMap key. The domain is kept so the responder
 * answers a token only for the host it was issued for. A route probe (jobs/issue/route-preflight.ts)
 * adds `"probe": true`: a token of the job's own, never sent to the ACME server, which the
 * responder serves like any other so that the job can prove a host's route before ordering.
 */

/**
 * Where an HTTP-01 challenge is fetched: `http://<domain>/.well-known/acme-challenge/<token>` on
 * port 80 (RFC 8555 §8.3). Every route, self-check and answer uses this prefix.
 */
export const CHALLENGE_PATH_PREFIX = '/.well-known/acme-challenge/';

/** The path of one token's challenge, {@link CHALLENGE_PATH_PREFIX} followed by the token. */
export function challengePath(token: string): string {
  return `${CHALLENGE_PATH_PREFIX}${token}`;
}

/** One pending challenge. */
export interface ChallengeEntry {
  token: string;
  domain: string;
  keyAuthorization: string;
  /** A route probe of the job's own (never an ACME token); absent for an ACME challenge. */
  probe?: true;
}

/** A ConfigMap key that could not be read as a challenge, and why. */
export interface MalformedChallenge {
  key: string;
  problem: string;
}

const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

/** Whether `token` is in the base64url alphabet (and of a sane length). */
export function isValidToken(token: string): boolean {
  return TOKEN.test(token);
}

/** Builds the ConfigMap `data` value for a challenge. */
export function encodeChallenge(entry: ChallengeEntry): string {
  return JSON.stringify({
    domain: entry.domain,
    keyAuthorization: entry.keyAuthorization,
    ...(entry.probe ? { probe: true } : {}),
  });
}

/**
 * Reads every challenge in a ConfigMap's `data`. Never throws: entries that cannot be read are
 * returned in `malformed` with the reason, and the others are still returned.
 */
export function decodeChallenges(data: Record<string, string> | undefined): {
  entries: ChallengeEntry[];
  malformed: MalformedChallenge[];
} {
  const entries: ChallengeEntry[] = [];
  const malformed: MalformedChallenge[] = [];
  for (const [key, value] of Object.entries(data ?? {})) {
    if (!isValidToken(key)) {
      malformed.push({ key, problem: 'key is not a token in the base64url alphabet' });
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      malformed.push({ key, problem: 'value is not JSON' });
      continue;
    }
    const record = parsed as {
      domain?: unknown;
      keyAuthorization?: unknown;
      probe?: unknown;
    } | null;
    if (typeof record?.domain !== 'string' || record.domain === '') {
      malformed.push({ key, problem: 'value has no "domain" string' });
      continue;
    }
    if (
      typeof record.keyAuthorization !== 'string' ||
      !record.keyAuthorization.startsWith(`${key}.`)
    ) {
      // RFC 8555 §8.1: keyAuthorization = token || '.' || base64url(Thumbprint(accountKey))
      malformed.push({
        key,
        problem: 'value has no "keyAuthorization" of the form <token>.<thumbprint>',
      });
      continue;
    }
    entries.push({
      token: key,
      domain: record.domain.toLowerCase(),
      keyAuthorization: record.keyAuthorization,
      ...(record.probe === true ? { probe: true as const } : {}),
    });
  }
  return { entries, malformed };
}
