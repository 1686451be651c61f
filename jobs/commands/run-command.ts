/**
 * `run` (the default; what the CronJob runs): take the Lease, gather and decide, act, clean up.
 */
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { JobSettings } from '../config.js';
import type { RunLease } from '../kube/run-lease.js';
import { reconcile, type RunReport } from '../run/reconcile.js';
import { gatherAndDecide } from '../run/snapshot.js';
import { wireJob, type CommandContext } from './wiring.js';
import { planSettingWarnings } from '../decide/profile-lifetime.js';

/** Exit code of a run that was stopped by SIGTERM or SIGINT before it finished. */
export const EXIT_STOPPED = 3;

/**
 * Runs once; returns the exit code: 0 the run itself worked (the API server and the ACME server
 * were usable and the status was written — whatever became of each certificate, which Events,
 * the status and `kube_lego_certificates_failing` report), or another run holds the Lease; 1 the
 * run stopped early (`AcmeUnavailable`, `KubeApiUnavailable`); {@link EXIT_STOPPED} stopped by a
 * signal. (An unexpected error thrown out of here is 1 too, and a bad setting 2, in main.)
 */
export async function runCommand(
  settings: JobSettings,
  logger: Logger,
  context: CommandContext,
): Promise<number> {
  const { now, stop } = context;
  const startedAt = now();
  const job = await wireJob(settings, logger, context);

  const outcome = await job.lease.acquire();
  if (!outcome.acquired) {
    logger.info('another run is working; exiting without doing anything', {
      lease: `${settings.namespace}/${settings.leaseName}`,
      holder: outcome.holder,
      expiresAt: outcome.expiresAt.toISOString(),
    });
    return 0;
  }
  if (outcome.tookOverFrom) {
    logger.warn('took over the Lease of a run that stopped renewing it', {
      previousHolder: outcome.tookOverFrom,
    });
  }
  const held = keepRenewing(job.lease, settings.leaseDuration / 3, logger);

  let report: RunReport | undefined;
  try {
    const plan = await gatherAndDecide(
      job.gather,
      job.decisionSettings,
      now(),
      job.gatherRenewalInfo,
    );
    // A setting that does not fit the certificates' lifetime: one line per run, from the stored
    // certificates alone (no ACME request; `plan` also checks the profile's name).
    for (const warning of planSettingWarnings(plan, settings.acmeProfile, undefined))
      logger.warn(warning.message, { reason: warning.reason });
    // Kept certificates matter only to certificates that are needed.
    await job.loadKept(
      plan.decisions
        .filter((d) => d.action.kind === 'Issue' || d.action.kind === 'BackingOff')
        .map((d) => d.certificate),
    );
    report = await reconcile(plan, job.actPorts(held.isHeld), logger, now, startedAt, {
      timeMs: settings.runBudget,
      maxOrders: settings.maxOrdersPerRun,
    });
    if (stop.requested) return EXIT_STOPPED;
    // Per-certificate failures do not fail the run: with a CronJob's Job retries they would
    // only repeat the same run (and its Events) for nothing.
    return report.run.result === 'Succeeded' ? 0 : 1;
  } finally {
    // Always, not only after an order: a run that crashed may have left routes or tokens.
    await job.cleanup();
    held.stop();
    await job.lease.release();
    if (report) {
      logger.info('run finished', {
        result: report.run.result,
        entries: report.run.entries,
        issued: report.run.issued,
        renewed: report.run.renewed,
        valid: report.run.valid,
        skipped: report.run.skipped,
        failed: report.run.failed,
        ...(report.run.deferred ? { deferred: report.run.deferred } : {}),
        durationMs: Date.now() - startedAt.getTime(),
        apiRequests: job.apiRequests(),
        acmeRequests: await job.acmeRequests(),
        ...(report.run.reason ? { runReason: report.run.reason } : {}),
      });
    }
    if (stop.requested) {
      logger.warn(`stopped by ${stop.requested}: the run did not finish`, {
        signal: stop.requested,
        exitCode: EXIT_STOPPED,
      });
    }
  }
}

/**
 * Renews the Lease every `intervalMs` until stopped. `isHeld()` turns false for good once another
 * run took the Lease: no further order is started then. A failed renewal is logged and retried
 * at the next tick (the Lease lasts three intervals).
 */
export function keepRenewing(
  lease: RunLease,
  intervalMs: number,
  logger: Logger,
): { isHeld: () => boolean; stop: () => void } {
  let held = true;
  const timer = setInterval(() => {
    lease
      .renew()
      .then((stillHeld) => {
        if (!stillHeld && held)
          logger.error('lost the Lease to another run; no further orders are started');
        held &&= stillHeld;
      })
      .catch((error: unknown) => {
        logger.warn('could not renew the Lease', { error: describeError(error) });
      });
  }, intervalMs);
  timer.unref();
  return {
    isHeld: () => held,
    stop: () => {
      clearInterval(timer);
    },
  };
}
