/**
 * `check-routes [<namespace>/<ingress>]`: prove every managed certificate's challenge routes
 * without ordering anything — for an operator moving to another ingress controller, before
 * certificates start failing. For each certificate (or those of one Ingress): open its routes,
 * probe each host as a run's preflight does (jobs/issue/route-preflight.ts), close the routes.
 * Prints a table host → result with the reason; sends no ACME request.
 *
 * It takes the run's Lease: its routing objects (the challenge Ingress, the responder Service)
 * are the ones a run writes, so the two must never work at the same time.
 */
import { ConfigError, describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { JobSettings } from '../config.js';
import { classifyFailure } from '../decide/failure-class.js';
import type { PreflightReason } from '../decide/reasons.js';
import type { DesiredCertificate } from '../model.js';
import { requesterName } from '../model.js';
import { gatherAndDecide } from '../run/snapshot.js';
import { EXIT_STOPPED, keepRenewing } from './run-command.js';
import { formatTable } from './table.js';
import { wireJob, type CommandContext } from './wiring.js';

/** One row of the table: a host of a certificate, and what its probe came to. */
export interface RouteCheck {
  certificate: DesiredCertificate;
  host: string;
  reachable: boolean;
  /** `RouteUnreachable`, or the reason the routes could not be opened (e.g. `Routing`). */
  reason: string;
  /** What was seen instead of the probe; empty when reachable. */
  seen: string;
}

const UNREACHABLE = 'RouteUnreachable' satisfies PreflightReason;

/**
 * Reads `<namespace>/<ingress>`; `undefined` for none (every managed entry).
 * @throws ConfigError when it is not of that form.
 */
export function parseRouteTarget(
  target: string | undefined,
): { namespace: string; name: string } | undefined {
  if (target === undefined || target === '') return undefined;
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(target);
  if (!match?.[1] || !match[3])
    throw new ConfigError('check-routes target', target, '<namespace>/<ingress>');
  return { namespace: match[1], name: match[3] };
}

/**
 * Checks the routes and prints the table; exit code 0 only when every host was reachable, 1
 * otherwise (also when another run holds the Lease, or no managed entry matched),
 * {@link EXIT_STOPPED} when stopped by a signal.
 * @throws ConfigError for a malformed target; KubeApiError when the API is unusable.
 */
export async function checkRoutesCommand(
  settings: JobSettings,
  logger: Logger,
  context: CommandContext,
  target?: string,
): Promise<number> {
  const only = parseRouteTarget(target);
  const { now, stop } = context;
  const job = await wireJob(settings, logger, context);
  const lease = await job.lease.acquire();
  if (!lease.acquired) {
    logger.error('another run is working; routes not checked, try again later', {
      lease: `${settings.namespace}/${settings.leaseName}`,
      holder: lease.holder,
      expiresAt: lease.expiresAt.toISOString(),
    });
    return 1;
  }
  const held = keepRenewing(job.lease, settings.leaseDuration / 3, logger);
  const checks: RouteCheck[] = [];
  try {
    const plan = await gatherAndDecide(job.gather, job.decisionSettings, now());
    const certificates = plan.decisions
      .map((d) => d.certificate)
      .filter(
        (c) =>
          only === undefined ||
          c.requesters.some(
            (r) => r.kind === 'Ingress' && r.namespace === only.namespace && r.name === only.name,
          ),
      );
    if (certificates.length === 0) {
      logger.error('no managed TLS entry to check', { target: target ?? 'all' });
      return 1;
    }
    for (const certificate of certificates) {
      if (stop.requested || !held.isHeld()) break;
      const log = logger.child({
        namespace: certificate.namespace,
        secret: certificate.secretName,
        hosts: certificate.hosts.join(','),
      });
      try {
        for (const probe of await job.probeRoutes(certificate, log))
          checks.push({
            certificate,
            host: probe.host,
            reachable: probe.reachable,
            reason: probe.reachable ? '' : UNREACHABLE,
            seen: probe.reachable ? '' : probe.seen,
          });
      } catch (error) {
        const failure = classifyFailure(error);
        if (failure.scope === 'run') throw error;
        log.warn('challenge routes could not be opened', { error: describeError(error) });
        for (const host of certificate.hosts)
          checks.push({
            certificate,
            host,
            reachable: false,
            reason: failure.reason,
            seen: failure.message,
          });
      }
    }
  } finally {
    await job.cleanup();
    held.stop();
    await job.lease.release();
  }
  process.stdout.write(formatRouteChecks(checks) + '\n');
  const unreachable = checks.filter((c) => !c.reachable).length;
  logger.info('routes checked', {
    certificates: new Set(checks.map((c) => c.certificate)).size,
    hosts: checks.length,
    reachable: checks.length - unreachable,
    unreachable,
    apiRequests: job.apiRequests(),
    acmeRequests: await job.acmeRequests(),
  });
  if (stop.requested) return EXIT_STOPPED;
  return unreachable > 0 || !held.isHeld() ? 1 : 0;
}

/** The table `check-routes` prints: one row per host. */
export function formatRouteChecks(checks: readonly RouteCheck[]): string {
  return formatTable(
    ['HOST', 'INGRESS', 'SECRET', 'RESULT', 'REASON', 'SEEN'],
    checks.map((c) => [
      c.host,
      c.certificate.requesters.map(requesterName).join(','),
      `${c.certificate.namespace}/${c.certificate.secretName}`,
      c.reachable ? 'Reachable' : 'Unreachable',
      c.reason || '-',
      c.seen,
    ]),
  );
}
