/**
 * Decide: what the responder answers to one request. Pure: no I/O, no clock, no logging; the app
 * (app.ts) only carries the answer out.
 *
 * The rules, in order:
 * 1. `/healthz` and `/readyz` (GET or HEAD) are probes.
 * 2. Under `/.well-known/acme-challenge/`, only GET and HEAD are allowed (405 otherwise). What
 *    follows the prefix must be a whole token in the base64url alphabet (RFC 8555 §8.3) — so
 *    `..`, `%2F`, a trailing `/` or segment, or anything percent-encoded is not a token — and the
 *    token must be pending, for exactly the host the request names (RFC 8555 §8.3: the validator
 *    sends the domain being validated as Host).
 * 3. Everything else is 404.
 * Every 404 has the same body, whichever rule refused, so a client learns nothing from it.
 *
 * The path is the raw request target, never decoded or normalized: a challenge URL has exactly
 * one spelling, `/.well-known/acme-challenge/<token>`, and nothing else may match it.
 */
import { isValidToken, type ChallengeEntry } from '../shared/challenge-entries.js';

/** Path prefix of HTTP-01 challenges (RFC 8555 §8.3). */
export const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** How a request ended, as counted in `kube_lego_responder_requests_total{result}`. */
export const REQUEST_RESULTS = [
  'served',
  'not_found',
  'wrong_host',
  'bad_token',
  'method_not_allowed',
  'too_many_headers',
  'probe',
  'error',
] as const;
export type RequestResult = (typeof REQUEST_RESULTS)[number];

/** The constant bodies: no response ever says more than these. */
export const BODIES = {
  notFound: 'Not Found\n',
  methodNotAllowed: 'Method Not Allowed\n',
  tooManyHeaders: 'Request Header Fields Too Large\n',
  error: 'Internal Server Error\n',
  alive: 'ok\n',
  ready: 'ready\n',
  notReady: 'not ready\n',
} as const;

/** Port: finds a pending challenge by its token; `undefined` when there is none. */
export interface ChallengeLookup {
  find(token: string): ChallengeEntry | undefined;
}

/** What the decision needs to know about a request. */
export interface RequestFacts {
  method: string;
  /** The raw request target as received (path and query), e.g. `req.url`. */
  url: string;
  /** The Host header, as received; `undefined` when absent. */
  host: string | undefined;
}

/** The answer to send. `body` is sent for GET (and other methods), never for HEAD. */
export interface Answer {
  status: number;
  body: string;
  result: RequestResult;
  /** Value of the `Allow` header of a 405. */
  allow?: string;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/** Decides the answer to a request. Never throws unless `lookup.find` does. */
export function answerRequest(
  request: RequestFacts,
  lookup: ChallengeLookup,
  ready: boolean,
): Answer {
  const path = pathOf(request.url);
  const readMethod = READ_METHODS.has(request.method);
  if (path === '/healthz' || path === '/readyz') {
    if (!readMethod) return methodNotAllowed();
    if (path === '/healthz') return { status: 200, body: BODIES.alive, result: 'probe' };
    return ready
      ? { status: 200, body: BODIES.ready, result: 'probe' }
      : { status: 503, body: BODIES.notReady, result: 'probe' };
  }
  if (!path.startsWith(CHALLENGE_PREFIX)) return notFound('not_found');
  if (!readMethod) return methodNotAllowed();
  const token = path.slice(CHALLENGE_PREFIX.length);
  if (!isValidToken(token)) return notFound('bad_token');
  const entry = lookup.find(token);
  if (entry === undefined) return notFound('not_found');
  // An IPv6 identifier is stored without brackets (RFC 8738 §3 text form); its Host header has
  // them (RFC 3986 §3.2.2), so they are dropped for the comparison.
  if (hostName(request.host)?.replace(/^\[([0-9a-f:.]*:[0-9a-f:.]*)\]$/, '$1') !== entry.domain)
    return notFound('wrong_host');
  return { status: 200, body: entry.keyAuthorization, result: 'served' };
}

/**
 * The host name of a Host header: the port removed, lower-cased. `undefined` for a missing or
 * empty header. An IPv6 literal keeps its brackets (`[::1]`).
 */
export function hostName(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  let name = host.trim().toLowerCase();
  if (name.startsWith('[')) {
    const end = name.indexOf(']');
    name = end === -1 ? name : name.slice(0, end + 1);
  } else {
    const colon = name.indexOf(':');
    if (colon !== -1) name = name.slice(0, colon);
  }
  return name === '' ? undefined : name;
}

/**
 * The path of a raw request target: everything before the first `?` (a query is ignored, as by
 * any web server; a validator sends none). A `#` is not special: clients never send fragments,
 * so one here is part of a path that matches nothing.
 */
function pathOf(url: string): string {
  const end = url.indexOf('?');
  return end === -1 ? url : url.slice(0, end);
}

function notFound(result: RequestResult): Answer {
  return { status: 404, body: BODIES.notFound, result };
}

function methodNotAllowed(): Answer {
  return {
    status: 405,
    body: BODIES.methodNotAllowed,
    result: 'method_not_allowed',
    allow: 'GET, HEAD',
  };
}
