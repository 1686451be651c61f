/**
 * Adapter: the ACME Renewal Information endpoint (ARI, RFC 9773), which acme-client 5.4 does not
 * know. It is a plain unauthenticated GET of `<directory.renewalInfo>/<certificate ID>` (§4.1),
 * so it is sent here through acme-client's own HTTP client — the same timeout, User-Agent and
 * request count as every other ACME request (jobs/acme/acme-http.ts) — without forking or
 * patching the library. Nothing here decides: the answer's body and Retry-After go to
 * jobs/decide/renewal-window.ts.
 */
import acme from 'acme-client';
import { AcmeError, AcmeUnavailableError, describeError } from '../../shared/errors.js';
import { parseRetryAfter } from './acme-http.js';

/** What the renewalInfo endpoint answered about one certificate. */
export interface RenewalInfoAnswer {
  /** The JSON body, unparsed beyond JSON (jobs/decide/renewal-window.ts reads it). */
  body: unknown;
  /** The answer's Retry-After (RFC 9773 §4.3), if it had one. */
  retryAfter: Date | undefined;
}

/** The port the gather step asks through (jobs/run/renewal-info-gather.ts). */
export interface RenewalInfoSource {
  /**
   * Whether the directory offers ARI (a `renewalInfo` URL). Reads the directory once.
   * @throws AcmeUnavailableError when the directory cannot be read.
   */
  offered(): Promise<boolean>;
  /**
   * The renewal information of a certificate, or `undefined` when the directory offers none.
   * @throws AcmeError for an error answer (4xx: about this certificate), AcmeUnavailableError
   *   when the server does not answer or answers 5xx.
   */
  ask(certificateId: string): Promise<RenewalInfoAnswer | undefined>;
}

/** An answer of {@link getAcmeResource}. */
export interface Response {
  status: number;
  data: unknown;
  headers: Record<string, unknown>;
}

/** {@link RenewalInfoSource} over HTTP. acme-http must be configured first. */
export class AcmeRenewalInfo implements RenewalInfoSource {
  private endpoint: Promise<string | undefined> | undefined;

  constructor(
    private readonly directoryUrl: string,
    private readonly now: () => Date,
  ) {}

  async offered(): Promise<boolean> {
    return (await this.renewalInfoUrl()) !== undefined;
  }

  async ask(certificateId: string): Promise<RenewalInfoAnswer | undefined> {
    const base = await this.renewalInfoUrl();
    if (base === undefined) return undefined;
    // §4.1: the ID is appended to the renewalInfo URL as a path segment.
    const url = `${base.replace(/\/+$/, '')}/${certificateId}`;
    const response = await getAcmeResource(url, 'renewal information');
    if (response.status !== 200) {
      const problem = problemOf(response.data);
      const Kind = response.status >= 500 ? AcmeUnavailableError : AcmeError;
      throw new Kind(
        `ACME renewal information answered ${response.status}${problem.detail ? `: ${problem.detail}` : ''}`,
        problem.type,
        undefined,
      );
    }
    return {
      body: response.data,
      retryAfter: parseRetryAfter(response.headers['retry-after'], this.now()),
    };
  }

  private renewalInfoUrl(): Promise<string | undefined> {
    this.endpoint ??= (async () => {
      const url = (await readAcmeDirectory(this.directoryUrl)).renewalInfo;
      return typeof url === 'string' && url !== '' ? url : undefined;
    })();
    // A failed read is not cached: a later ask tries again.
    this.endpoint.catch(() => {
      this.endpoint = undefined;
    });
    return this.endpoint;
  }
}

/**
 * The directory object (RFC 8555 §7.1.1), read with one {@link getAcmeResource}: what
 * acme-client reads of it but does not expose (`renewalInfo`, `meta.profiles`).
 * @throws AcmeUnavailableError when no answer came, or the answer is not a directory.
 */
export async function readAcmeDirectory(directoryUrl: string): Promise<Record<string, unknown>> {
  const response = await getAcmeResource(directoryUrl, 'directory');
  const data = response.data;
  if (response.status !== 200 || typeof data !== 'object' || data === null || Array.isArray(data))
    throw new AcmeUnavailableError(
      `ACME directory ${directoryUrl} answered ${response.status} without a directory`,
      undefined,
      undefined,
    );
  return data as Record<string, unknown>;
}

/**
 * One unauthenticated GET (the directory, renewalInfo) through acme-client's axios instance, its
 * JSON body parsed when it is JSON. No retry (a failed ask falls back to the lifetime rule and is
 * asked again an hour later), every status returned to the caller.
 * @throws AcmeUnavailableError when no answer came.
 */
async function getAcmeResource(url: string, what: string): Promise<Response> {
  try {
    const response = await acme.axios.get<unknown>(url, {
      // acme-client's interceptor retries while retryAttempt is below its limit: not here.
      retryAttempt: Number.MAX_SAFE_INTEGER - 1,
      validateStatus: () => true,
      responseType: 'text',
    } as Parameters<typeof acme.axios.get>[1]);
    return {
      status: response.status,
      headers: response.headers,
      data: parseJson(response.data),
    };
  } catch (error) {
    throw new AcmeUnavailableError(
      `ACME ${what} request to ${url} failed: ${describeError(error)}`,
      undefined,
      undefined,
      { cause: error },
    );
  }
}

function parseJson(data: unknown): unknown {
  if (Buffer.isBuffer(data)) data = data.toString('utf8');
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

function problemOf(data: unknown): { type: string | undefined; detail: string | undefined } {
  if (typeof data !== 'object' || data === null) return { type: undefined, detail: undefined };
  const { type, detail } = data as { type?: unknown; detail?: unknown };
  return {
    type: typeof type === 'string' ? type : undefined,
    detail: typeof detail === 'string' ? detail : undefined,
  };
}
