/**
 * Adapter: how acme-client talks HTTP, made safe for a job that must finish.
 *
 * acme-client sends every request through one shared axios instance (`acme.axios`) which, left
 * as it is, has no timeout, sleeps for any Retry-After up to five times (a rate-limit Retry-After
 * can be hours: RFC 8555 §6.6 lets the server name any delay), and hides the problem document's
 * `type` behind a bare Error. Here it gets:
 *  - a request timeout;
 *  - no automatic retry of 429 — the run records the server's Retry-After and the certificate
 *    backs off until then (docs/design.md, "Failures and back-off") — and two quick retries of 5xx and network errors;
 *  - a record of the last problem document (RFC 8555 §6.7) and Retry-After, so errors can be
 *    reported with their ACME problem type;
 *  - a count of requests, for the run summary;
 *  - nonce reuse: the Replay-Nonce of each response is kept (jobs/acme/nonce-pool.ts) and
 *    answers acme-client's next `HEAD newNonce` without a round trip (RFC 8555 §6.5, §7.2).
 *    acme-client asks newNonce only through HEAD (http.js getNonce), so every HEAD is such a
 *    request; with no nonce kept it goes to the server as before;
 *  - one read of the directory per process: acme-client reads it (http.js getDirectory) and so
 *    do our ARI and profile adapters (`renewalInfo`, `meta.profiles`, which acme-client does not
 *    expose). A GET of a directory URL named to {@link configureAcmeHttp} that was answered 200
 *    is answered again from that copy. A job run lasts minutes; the directory's URLs do not
 *    change under it (RFC 8555 §7.1.1), and a failed read is not kept.
 * The instance is process-wide, so {@link configureAcmeHttp} is idempotent.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import acme from 'acme-client';
import { NoncePool } from './nonce-pool.js';

/** A problem document the server sent, with its Retry-After if any. */
export interface AcmeProblem {
  type: string | undefined;
  detail: string;
  status: number;
  retryAfter: Date | undefined;
}

interface AxiosLikeConfig {
  retryAttempt?: number;
  url?: string;
  method?: string;
  validateStatus?: ((status: number) => boolean) | null;
}
interface AxiosLikeResponse {
  status: number;
  statusText?: string;
  data: unknown;
  headers: Record<string, unknown>;
  config?: AxiosLikeConfig;
}
type Adapter = (config: AxiosLikeConfig) => Promise<AxiosLikeResponse>;

/** A directory answer as the http adapter gave it, before axios parsed its body. */
interface CachedAnswer {
  status: number;
  statusText: string | undefined;
  headers: Record<string, unknown>;
  data: string;
}

const BAD_NONCE = 'urn:ietf:params:acme:error:badNonce';

const state = {
  configured: false,
  requests: 0,
  noncesReused: 0,
  nonces: new NoncePool(),
  directoryUrls: new Set<string>(),
  directories: new Map<string, CachedAnswer>(),
  directoriesReused: 0,
  lastProblem: undefined as AcmeProblem | undefined,
  lastNetworkError: undefined as Error | undefined,
  now: () => new Date(),
};

/**
 * Configures acme-client's HTTP client; later calls only update the timeout and add directory
 * URLs. `directoryUrl`: a directory whose answer is read once per process.
 */
export function configureAcmeHttp(options: {
  timeoutMs: number;
  now?: () => Date;
  directoryUrl?: string;
}): void {
  const instance = acme.axios as unknown as {
    defaults: {
      timeout: number;
      adapter: unknown;
      acmeSettings: { retryMaxAttempts: number; retryDefaultDelay: number };
    };
  };
  instance.defaults.timeout = options.timeoutMs;
  if (options.now) state.now = options.now;
  if (options.directoryUrl) state.directoryUrls.add(options.directoryUrl);
  if (state.configured) return;
  state.configured = true;
  instance.defaults.acmeSettings.retryMaxAttempts = 2;
  instance.defaults.acmeSettings.retryDefaultDelay = 2;
  // acme-client resolves its own axios; take the node http adapter from that same copy.
  const axios = createRequire(fileURLToPath(import.meta.resolve('acme-client')))('axios') as {
    getAdapter: (name: string) => Adapter;
    AxiosError: new (
      message: string,
      code: string,
      config: AxiosLikeConfig,
      request: unknown,
      response: AxiosLikeResponse,
    ) => Error;
  };
  const http = axios.getAdapter('http');
  // acme-client makes axios treat every response as an error (its interceptor sorts them out),
  // so the http adapter rejects with the response attached: look at both paths.
  const inspect = (config: AxiosLikeConfig, response: AxiosLikeResponse) => {
    const problem = problemOf(response);
    if (problem) state.lastProblem = problem;
    // A 429 must not be slept on inside this run: mark the request as out of retries, so
    // acme-client's interceptor hands the response back and the caller sees the rate limit.
    if (response.status === 429) config.retryAttempt = Number.MAX_SAFE_INTEGER - 1;
    // acme-client itself uses the nonce of a HEAD newNonce answer and of a badNonce error (its
    // retry): keeping those too would send each nonce twice. Every other one is free.
    if (!isHead(config) && problem?.type !== BAD_NONCE)
      state.nonces.keep(originOf(config.url), response.headers['replay-nonce']);
  };
  const adapter: Adapter = async (config) => {
    const directory = isGet(config) ? state.directories.get(config.url ?? '') : undefined;
    if (directory) {
      state.directoriesReused++;
      // A fresh object each time: axios replaces `data` with the parsed body in place.
      return settle(config, { ...directory, headers: { ...directory.headers }, config });
    }
    if (isHead(config)) {
      const kept = state.nonces.take(originOf(config.url));
      if (kept !== undefined) {
        state.noncesReused++;
        return settle(config, {
          status: 200,
          statusText: 'OK',
          data: '',
          headers: { 'replay-nonce': kept },
          config,
        });
      }
    }
    state.requests++;
    try {
      const response = await http(config);
      inspect(config, response);
      keepDirectory(config, response);
      return response;
    } catch (error) {
      const response = (error as { response?: AxiosLikeResponse } | null)?.response;
      if (response) {
        inspect(config, response);
        keepDirectory(config, response);
      } else state.lastNetworkError = error instanceof Error ? error : new Error(String(error));
      throw error;
    }
  };
  // What axios's own adapters do with a response (lib/core/settle.js): acme-client sets
  // validateStatus to reject everything and sorts responses out in its interceptor, so a kept
  // nonce must take the same path as one the server sent.
  const settle = (config: AxiosLikeConfig, response: AxiosLikeResponse): AxiosLikeResponse => {
    if (!config.validateStatus || config.validateStatus(response.status)) return response;
    throw new axios.AxiosError(
      `Request failed with status code ${response.status}`,
      'ERR_BAD_RESPONSE',
      config,
      undefined,
      response,
    );
  };
  instance.defaults.adapter = adapter;
}

function keepDirectory(config: AxiosLikeConfig, response: AxiosLikeResponse): void {
  const url = config.url ?? '';
  if (!isGet(config) || response.status !== 200 || !state.directoryUrls.has(url)) return;
  let data: unknown = response.data;
  if (Buffer.isBuffer(data)) data = data.toString('utf8');
  if (typeof data !== 'string') return;
  // A Replay-Nonce it may carry was kept already; a copy must not hand it out again.
  const { 'replay-nonce': _nonce, ...headers } = response.headers;
  state.directories.set(url, { status: 200, statusText: response.statusText, headers, data });
}

/** Reads of a directory answered from the copy kept by the first one. */
export function acmeDirectoriesReused(): number {
  return state.directoriesReused;
}

/** ACME requests sent so far by this process. */
export function acmeRequestCount(): number {
  return state.requests;
}

/** `HEAD newNonce` requests answered with a kept Replay-Nonce instead of a round trip. */
export function acmeNoncesReused(): number {
  return state.noncesReused;
}

function isHead(config: AxiosLikeConfig): boolean {
  return (config.method ?? '').toLowerCase() === 'head';
}

function isGet(config: AxiosLikeConfig): boolean {
  return (config.method ?? 'get').toLowerCase() === 'get';
}

// Nonces belong to a server (RFC 8555 §6.5); a run talks to one directory, but keep them apart.
function originOf(url: string | undefined): string {
  try {
    return new URL(url ?? '').origin;
  } catch {
    return '';
  }
}

/** Forgets the last problem; call before an operation whose failure is to be explained. */
export function resetLastProblem(): void {
  state.lastProblem = undefined;
  state.lastNetworkError = undefined;
}

/** The last problem document the server sent since {@link resetLastProblem}. */
export function lastProblem(): AcmeProblem | undefined {
  return state.lastProblem;
}

/** The last network-level error (connection refused, TLS, timeout) since the reset. */
export function lastNetworkError(): Error | undefined {
  return state.lastNetworkError;
}

function problemOf(response: AxiosLikeResponse): AcmeProblem | undefined {
  // The adapter sees the body before axios parses it: problem+json arrives as text or bytes.
  let body: unknown = response.data;
  if (Buffer.isBuffer(body)) body = body.toString('utf8');
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      body = undefined;
    }
  }
  const data = body as
    { type?: unknown; detail?: unknown; status?: unknown; error?: unknown } | undefined;
  let document: { type?: unknown; detail?: unknown } | undefined;
  if (response.status >= 400 && data && typeof data === 'object') document = data;
  // A challenge or authorization that turned invalid carries its problem in `error` (§7.1.6).
  else if (
    data &&
    typeof data === 'object' &&
    data.status === 'invalid' &&
    data.error &&
    typeof data.error === 'object'
  ) {
    document = data.error;
  }
  if (!document) return undefined;
  return {
    type: typeof document.type === 'string' ? document.type : undefined,
    detail: typeof document.detail === 'string' ? document.detail : JSON.stringify(document),
    status: response.status,
    retryAfter: parseRetryAfter(response.headers['retry-after'], state.now()),
  };
}

// The three HTTP-date forms (RFC 9110 §5.6.7): IMF-fixdate, obsolete RFC 850, asctime (GMT).
const GMT_DATE =
  /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$|^[A-Z][a-z]{5,8}, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * Parses Retry-After: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Anything else is
 * `undefined` — also what `Date` alone would read leniently, such as "-10" or "1.5" (dates in 2001).
 */
export function parseRetryAfter(value: unknown, now: Date): Date | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return new Date(now.getTime() + Number(text) * 1000);
  const date = GMT_DATE.test(text)
    ? new Date(text)
    : ASCTIME_DATE.test(text)
      ? new Date(`${text} GMT`)
      : undefined;
  return date === undefined || Number.isNaN(date.getTime()) ? undefined : date;
}
