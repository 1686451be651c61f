/**
 * Act: the route preflight. Before an order is created, prove that every host's challenge route
 * reaches the responder, with a token of the job's own: a failed route then costs no ACME order,
 * no failed validation (Let's Encrypt allows 5 per name per hour) and no pending authorization.
 *
 * One probe per host — a random token and body, marked `probe` in the challenge ConfigMap
 * (shared/challenge-entries.ts) so the responder serves it like any other token and anyone
 * reading the ConfigMap sees it is not an ACME challenge — fetched through the same resolver and
 * port as the self-check (jobs/issue/self-check.ts). The probes never reach the ACME server: they
 * are not part of any order, and they are withdrawn whatever happens.
 *
 * The caller opens the routes first and closes them afterwards (jobs/routing/): a run keeps them
 * open for the order that follows, `check-routes` closes them at once.
 */
import { randomBytes } from 'node:crypto';
import { describeError, RouteUnreachableError } from '../../shared/errors.js';
import type { ChallengeEntry } from '../../shared/challenge-entries.js';
import type { Logger } from '../../shared/logger.js';
import type { ChallengeStore } from '../kube/challenge-store.js';
import type { SelfCheckResult } from './self-check.js';

/** The User-Agent of probe requests, so that access logs tell them from the self-check's. */
export const PROBE_USER_AGENT = 'kube-lego-route-preflight';

/** What the probe of one host came to. */
export type HostProbe =
  { host: string; reachable: true } | { host: string; reachable: false; seen: string };

export interface RouteProbeDependencies {
  challenges: Pick<ChallengeStore, 'add' | 'remove'>;
  /** Fetches each probe as the self-check would (self-check.ts `selfCheckEach`); never throws. */
  checkServed: (probes: readonly ChallengeEntry[]) => Promise<SelfCheckResult[]>;
  logger: Logger;
  /** Aborted when the run abandons the certificate (a stop request): a probe is no verdict then. */
  abandon?: AbortSignal;
}

/**
 * Builds one probe per host: a fresh random token (32 bytes, base64url, as long as an ACME
 * token) and a body of the same `<token>.<random>` shape as a key authorization (RFC 8555 §8.1),
 * marked `probe`.
 */
export function buildProbes(hosts: readonly string[]): ChallengeEntry[] {
  return hosts.map((host) => {
    const token = randomBytes(32).toString('base64url');
    return {
      token,
      domain: host,
      keyAuthorization: `${token}.${randomBytes(32).toString('base64url')}`,
      probe: true,
    };
  });
}

/**
 * Publishes a probe per host, fetches each through its route, and withdraws them (in `finally`;
 * a failed withdrawal is logged, and the end of the run clears the ConfigMap). The routes must be
 * open. Returns each host's result, in the order of `hosts`.
 * @throws KubeApiError when the probes cannot be published; StoppedError (the abort reason) when
 *   `abandon` fired meanwhile.
 */
export async function probeRoutes(
  hosts: readonly string[],
  deps: RouteProbeDependencies,
): Promise<HostProbe[]> {
  const probes = buildProbes(hosts);
  deps.abandon?.throwIfAborted();
  let results: SelfCheckResult[];
  try {
    await deps.challenges.add(probes);
    deps.logger.debug('route probes published', { hosts: hosts.length });
    results = await deps.checkServed(probes);
  } finally {
    try {
      await deps.challenges.remove(probes.map((p) => p.token));
    } catch (error) {
      deps.logger.warn('could not withdraw route probes; the end of the run removes them', {
        error: describeError(error),
      });
    }
  }
  deps.abandon?.throwIfAborted();
  return results.map((r) =>
    r.served
      ? { host: r.challenge.domain, reachable: true }
      : { host: r.challenge.domain, reachable: false, seen: withoutToken(r.seen, r.challenge) },
  );
}

/**
 * The preflight of a run: {@link probeRoutes} over the certificate's hosts.
 * @throws RouteUnreachableError naming every host that failed and what was seen there; or as
 *   {@link probeRoutes}.
 */
export async function preflightRoutes(
  hosts: readonly string[],
  deps: RouteProbeDependencies,
): Promise<HostProbe[]> {
  const results = await probeRoutes(hosts, deps);
  const unreachable = results.flatMap((r) => (r.reachable ? [] : [{ host: r.host, seen: r.seen }]));
  if (unreachable.length > 0) throw new RouteUnreachableError(unreachable);
  deps.logger.info('challenge routes reach the responder', { hosts: hosts.length });
  return results;
}

/** What was seen, with the probe's token and body replaced: they mean nothing to a reader. */
function withoutToken(seen: string, probe: ChallengeEntry): string {
  return seen.replaceAll(probe.keyAuthorization, '<probe>').replaceAll(probe.token, '<probe>');
}
