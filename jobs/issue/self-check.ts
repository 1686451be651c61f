/**
 * The self-check: before asking the ACME server to validate, fetch
 * `http://<host>/.well-known/acme-challenge/<token>` the way the server will (RFC 8555 §8.3) and
 * compare the body with the key authorization. A route the ingress controller has not picked up
 * yet would otherwise cost a failed validation, and Let's Encrypt allows only 5 failed
 * validations per name per hour. Retried with exponential back-off (p-retry) within
 * LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME.
 */
import { request } from '../../shared/node-http.js';
import { lookup as systemLookup, Resolver } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import pRetry from 'p-retry';
import { KubeLegoError } from '../../shared/errors.js';
import { challengePath, type ChallengeEntry } from '../../shared/challenge-entries.js';
import type { Logger } from '../../shared/logger.js';

export interface SelfCheckOptions {
  /** User-Agent of the requests (default `kube-lego-self-check`). */
  userAgent?: string;
  /** Port dialled on each host: 80 in a cluster (where the ACME server dials). */
  port: number;
  /** `ip[:port]` of the DNS server to resolve hosts with; empty for the system resolver. */
  dnsServer: string;
  initialIntervalMs: number;
  maxElapsedMs: number;
  /** Timeout of one attempt. */
  attemptTimeoutMs?: number;
  /** Aborted when the run abandons the order (jobs/run/stop-request.ts): stop retrying. */
  signal?: AbortSignal;
}

/** The challenge was not served as expected within the allowed time. */
export class SelfCheckError extends KubeLegoError {}

/**
 * Resolves once every challenge answers its key authorization.
 * @throws SelfCheckError naming the host, the URL and what was answered instead.
 */
export async function selfCheck(
  challenges: readonly ChallengeEntry[],
  options: SelfCheckOptions,
  logger: Logger,
): Promise<void> {
  const lookup = makeLookup(options.dnsServer);
  await Promise.all(
    challenges.map((challenge) =>
      checkWithRetries(challenge, options, lookup, logger).catch((error: unknown) => {
        throw new SelfCheckError(
          `self-check of ${challenge.domain} failed after ${options.maxElapsedMs / 1000}s: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }),
    ),
  );
}

/** The self-check of one challenge: served, or what was seen instead at the last attempt. */
export type SelfCheckResult =
  | { challenge: ChallengeEntry; served: true }
  | { challenge: ChallengeEntry; served: false; seen: string };

/**
 * Checks every challenge as {@link selfCheck} does, each to its own end, and says for each one
 * whether it was served and, if not, what its last attempt saw (`GET <url>: connect
 * ECONNREFUSED …`, `answered HTTP 404`, `redirected to …`, a wrong body). Never throws; an abort
 * through `options.signal` counts as not served.
 */
export async function selfCheckEach(
  challenges: readonly ChallengeEntry[],
  options: SelfCheckOptions,
  logger: Logger,
): Promise<SelfCheckResult[]> {
  const lookup = makeLookup(options.dnsServer);
  return Promise.all(
    challenges.map((challenge) =>
      checkWithRetries(challenge, options, lookup, logger).then(
        (): SelfCheckResult => ({ challenge, served: true }),
        (error: unknown): SelfCheckResult => ({
          challenge,
          served: false,
          seen: error instanceof Error ? error.message : String(error),
        }),
      ),
    ),
  );
}

/** One challenge, retried with back-off within `options.maxElapsedMs`. */
async function checkWithRetries(
  challenge: ChallengeEntry,
  options: SelfCheckOptions,
  lookup: LookupFunction,
  logger: Logger,
): Promise<void> {
  await pRetry(() => checkOnce(challenge, options, lookup), {
    retries: 1000,
    factor: 2,
    minTimeout: options.initialIntervalMs,
    maxTimeout: Math.max(options.initialIntervalMs, options.maxElapsedMs / 4),
    maxRetryTime: options.maxElapsedMs,
    randomize: true,
    ...(options.signal ? { signal: options.signal } : {}),
    onFailedAttempt: ({ error, attemptNumber }) => {
      logger.debug('challenge not served yet', {
        host: challenge.domain,
        attempt: attemptNumber,
        error: error.message,
        ...(challenge.probe ? { probe: true } : {}),
      });
    },
  });
}

async function checkOnce(
  challenge: ChallengeEntry,
  options: SelfCheckOptions,
  lookup: LookupFunction,
): Promise<void> {
  const path = challengePath(challenge.token);
  const url = `http://${challenge.domain}${options.port === 80 ? '' : `:${options.port}`}${path}`;
  const { status, body, location } = await new Promise<{
    status: number;
    body: string;
    location: string | undefined;
  }>((resolve, reject) => {
    const req = request(
      {
        host: challenge.domain,
        port: options.port,
        path,
        method: 'GET',
        lookup,
        timeout: options.attemptTimeoutMs ?? 10_000,
        headers: { 'user-agent': options.userAgent ?? 'kube-lego-self-check' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < 4096) text += chunk;
        });
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: text, location: res.headers.location });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within the timeout`)));
    req.on('error', (error) => {
      reject(new Error(`GET ${url}: ${error.message}`));
    });
    req.end();
  });
  if (status !== 200 || body.trim() !== challenge.keyAuthorization) {
    // The body may be another token's key authorization or a web page; only its length is shown.
    // A redirect's target is shown: the ACME server follows it (RFC 8555 §8.3), often to HTTPS
    // where no challenge route exists.
    const redirect =
      status >= 300 && status < 400 && location ? `, redirecting to ${location},` : '';
    throw new Error(
      `GET ${url} answered HTTP ${status}${redirect} with ${body.length} bytes that are not the key authorization`,
    );
  }
}

function makeLookup(dnsServer: string): LookupFunction {
  if (dnsServer === '') {
    return (hostname, options, callback) => {
      systemLookup(hostname)
        .then((r) => {
          if (options.all) callback(null, [{ address: r.address, family: r.family }]);
          else callback(null, r.address, r.family);
        })
        .catch((error: unknown) => {
          callback(error as NodeJS.ErrnoException, '', 4);
        });
    };
  }
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([dnsServer]);
  return (hostname, options, callback) => {
    if (isIP(hostname)) {
      if (options.all) callback(null, [{ address: hostname, family: isIP(hostname) }]);
      else callback(null, hostname, isIP(hostname));
      return;
    }
    resolver
      .resolve4(hostname)
      .then((addresses) => {
        const address = addresses[0];
        if (!address) throw new Error(`${hostname} has no A record at ${dnsServer}`);
        if (options.all) callback(null, [{ address, family: 4 }]);
        else callback(null, address, 4);
      })
      .catch((error: unknown) => {
        callback(error as NodeJS.ErrnoException, '', 4);
      });
  };
}
