/**
 * Act: one reconcile run over a {@link RunPlan}. Certificates are issued one at a time (the nginx
 * challenge Ingress routes one certificate's hosts at a time, and Let's Encrypt's limits favour
 * a steady pace); one failing certificate never stops the others. What each decision comes to —
 * the status entry, the Event on the objects that asked for it, the log line — is decided by
 * jobs/decide/outcome.ts; this loop only carries it out. The status ConfigMap is written once at
 * the end; it is also the back-off memory of the next run.
 */
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { CertificateStatus, PendingRequest, RunStatus } from '../../shared/status-entries.js';
import {
  classifyFailure,
  RUN_FAILURE_REASONS,
  type RunFailureReason,
} from '../decide/failure-class.js';
import { checkRunBudget, type RunBudget } from '../decide/run-budget.js';
import { orderByUrgency } from '../decide/order-urgency.js';
import {
  deferredOutcome,
  failedOutcome,
  notAttemptedOutcome,
  invalidEntryOutcomes,
  issuedOutcome,
  orderStartLog,
  outcomeWithoutOrder,
  REQUEST_NOT_CLEARED,
  runSummary,
  type CertificateDecision as PlannedDecision,
  type CertificateOutcome,
  type EventNote,
  type LogLine,
  type RunCounts,
} from '../decide/outcome.js';
import type { IssuedCertificate } from '../issue/issue-certificate.js';
import type { DesiredCertificate, EntryRef, EventType, Requester } from '../model.js';
import type { RunPlan } from './snapshot.js';

/** The ports the act step writes through. */
export interface ActPorts {
  /**
   * Orders and stores one certificate (jobs/issue/issue-certificate.ts). `replaces` is the ARI
   * identifier of the stored certificate (RFC 9773 §5), if any. The new certificate's renewal
   * window is asked for by the next run's gather step, not here.
   */
  issue(
    certificate: DesiredCertificate,
    logger: Logger,
    options?: { replaces?: string },
  ): Promise<IssuedCertificate>;
  recordEvent(target: Requester, type: EventType, reason: string, message: string): Promise<void>;
  writeStatus(certificates: CertificateStatus[], run: RunStatus): Promise<void>;
  /** Whether the run may start another order (false once the Lease was lost). */
  mayContinue(): boolean;
  /** The signal that asked the run to stop (SIGTERM, SIGINT), if one did: no new order. */
  stopRequested(): string | undefined;
  /**
   * What a kept entry (shared/kept-certificates.ts) offers this certificate: `install`, a
   * certificate obtained earlier that `issue` installs without ordering; `download`, an order
   * made earlier whose certificate `issue` downloads first — ordering anew if that fails;
   * `undefined`, none. Either way a back-off does not hold it back (what was obtained is never
   * thrown away); only `install` is exempt from the run's budgets, since `download` may order.
   */
  keptUse(certificate: DesiredCertificate): 'install' | 'download' | undefined;
  /**
   * Removes an operator's request from the status ConfigMap, provided it still has the value
   * read (jobs/kube/status-store.ts).
   * @throws when it cannot (changed meanwhile, API error): the request is then not honoured.
   */
  clearRequest(request: PendingRequest): Promise<void>;
}

export interface RunReport {
  run: RunStatus;
  certificates: CertificateStatus[];
}

/**
 * Carries out a plan and writes the status. Never throws for a single certificate's failure;
 * throws only if the status cannot be written (KubeApiError), after every certificate was tried.
 * With a `budget` (jobs/decide/run-budget.ts), no order starts once it is spent, counted from
 * `startedAt` on the `now` clock: the certificates left are `Deferred` and the status is written
 * as always. Without one, every decided order starts.
 */
export async function reconcile(
  plan: RunPlan,
  ports: ActPorts,
  logger: Logger,
  now: () => Date,
  startedAt: Date,
  budget?: RunBudget,
): Promise<RunReport> {
  const counts: RunCounts = {
    issued: 0,
    renewed: 0,
    valid: 0,
    skipped: 0,
    failed: 0,
    deferred: 0,
  };
  // Orders started (ACME orders, not installs of a kept certificate), for the order budget.
  let ordersStarted = 0;
  let budgetSpentLogged = false;
  const statuses: CertificateStatus[] = [];
  const record = async (targets: readonly Requester[], event: EventNote | undefined) => {
    if (event === undefined) return;
    for (const target of targets) {
      try {
        await ports.recordEvent(target, event.type, event.reason, event.message);
      } catch (error) {
        logger.warn('could not record an Event', {
          namespace: target.namespace,
          // `ingress: <name>` for an Ingress, as the other log lines name it.
          [target.kind.toLowerCase()]: target.name,
          error: describeError(error),
        });
      }
    }
  };

  for (const skipped of plan.skipped) {
    counts.skipped++;
    // `ingress skipped` / `ingress: <name>` as before for an Ingress; `gateway` for a Gateway.
    const kind = (skipped.kind ?? 'Ingress').toLowerCase();
    logger.info(`${kind} skipped`, {
      namespace: skipped.namespace,
      [kind]: skipped.name,
      reason: skipped.reason,
      message: skipped.message,
    });
  }

  const invalid = invalidEntryOutcomes(plan.invalid, plan.decisions, now());
  for (const { entry, log, event } of invalid.entries) {
    counts.failed++;
    write(logger, log);
    await record([targetOf(entry.ref)], event);
  }

  /** Removes the requests; the sentence saying why one could not be, if any. */
  const clearRequests = async (
    requests: readonly PendingRequest[],
  ): Promise<string | undefined> => {
    for (const request of requests) {
      try {
        await ports.clearRequest(request);
      } catch (error) {
        return `The ${request.kind} request (key ${request.key} of the status ConfigMap) could not be removed (${describeError(error)}), so it is not honoured in this run.`;
      }
    }
    return undefined;
  };

  // Set by the first failure of the whole run (classifyFailure scope 'run').
  let runFailure: { reason: RunFailureReason; message: string } | undefined;
  // Urgent renewals first, so that a spent budget defers first issuances rather than them; the
  // statuses keep the plan's order.
  const ordered = orderByUrgency(plan.decisions.map((decision, index) => ({ ...decision, index })));
  const byPlan: CertificateStatus[] = [];
  for (const { index, ...planned } of ordered) {
    // Installing a kept certificate costs the ACME server nothing: no back-off applies to it.
    const decision: PlannedDecision =
      planned.action.kind === 'BackingOff' && ports.keptUse(planned.certificate) !== undefined
        ? {
            ...planned,
            action: {
              kind: 'Issue',
              renewal: planned.facts !== undefined,
              ...planned.action.needed,
            },
          }
        : planned;
    const { certificate, action } = decision;
    const log = logger.child({
      namespace: certificate.namespace,
      secret: certificate.secretName,
      hosts: certificate.hosts.join(','),
    });
    const checkedAt = now();
    const signal = ports.stopRequested();
    // Not attempted: the run failed as a whole or was stopped; the certificate keeps its
    // failure memory as it was.
    const notAttempted =
      runFailure ??
      (signal
        ? {
            reason: RUN_FAILURE_REASONS.stopped,
            message: `The run was stopped (${signal}) before ordering this certificate; the next run will.`,
          }
        : undefined);
    let outcome: CertificateOutcome | undefined =
      action.kind === 'Issue' && notAttempted
        ? notAttemptedOutcome(decision, notAttempted, checkedAt)
        : outcomeWithoutOrder(decision, action.kind === 'Issue' && ports.mayContinue(), checkedAt);
    // Before an operator's request is cleared: a deferred certificate keeps its request for the
    // next run. A kept certificate is installed without an order: no budget applies to it. A
    // kept order is not exempt: if its certificate cannot be downloaded, `issue` orders anew.
    const kept = action.kind === 'Issue' && ports.keptUse(certificate) === 'install';
    const exhausted =
      outcome === undefined && action.kind === 'Issue' && budget !== undefined && !kept
        ? checkRunBudget(budget, { startedAt, ordersStarted }, checkedAt)
        : undefined;
    if (exhausted) {
      if (!budgetSpentLogged) {
        budgetSpentLogged = true;
        logger.warn('run budget spent: no further order starts in this run', {
          reason: exhausted.reason,
          message: exhausted.message,
        });
      }
      outcome = deferredOutcome(decision, exhausted, checkedAt);
    }
    const requests = decision.requests ?? [];
    if (outcome === undefined && action.kind === 'Issue' && requests.length > 0) {
      // Cleared before ordering: a request that cannot be cleared must not order every run.
      log.info('honouring the operator’s request', {
        requests: [...new Set(requests.map((r) => r.kind))].join(','),
        reason: action.reason,
      });
      const notCleared = await clearRequests(requests);
      if (notCleared)
        outcome = notAttemptedOutcome(
          decision,
          { reason: REQUEST_NOT_CLEARED, message: notCleared },
          checkedAt,
        );
    }
    if (outcome === undefined && action.kind === 'Issue') {
      if (!kept) ordersStarted++;
      write(log, orderStartLog(action));
      try {
        const replaces = decision.facts?.certificateId;
        const issued = await ports.issue(certificate, log, replaces ? { replaces } : {});
        outcome = issuedOutcome(
          { ...decision, action },
          { ...issued, keyType: plan.keyType },
          checkedAt,
          plan.minimumValidityMs,
        );
      } catch (error) {
        const failure = classifyFailure(error);
        if (failure.scope === 'run') {
          // Charged to the run, once: logged here, recorded on the run's status; this
          // certificate and the ones after it keep their failure count.
          runFailure = { reason: failure.reason, message: failure.message };
          logger.error('run stopped: no further certificate is ordered in this run', {
            reason: failure.reason,
            error: failure.message,
          });
          outcome = notAttemptedOutcome(decision, runFailure, checkedAt);
        } else {
          outcome = failedOutcome(decision, failure, now(), checkedAt, plan.directoryUrl);
        }
      }
    }
    if (outcome === undefined) continue;
    if (action.kind === 'Valid' && requests.length > 0) {
      // Nothing to retry: the request is done with.
      const notCleared = await clearRequests(requests);
      if (notCleared) log.warn('could not clear the operator’s request', { error: notCleared });
      else log.info('request cleared: the certificate is valid, nothing to retry');
    }
    counts[outcome.tally]++;
    write(log, outcome.log);
    await record(certificate.requesters.map(targetOf), outcome.event);
    byPlan[index] = outcome.status;
  }
  statuses.push(...byPlan.filter((status) => status !== undefined), ...invalid.statuses);

  const run: RunStatus = runSummary(
    counts,
    plan.decisions.length + plan.invalid.length,
    startedAt,
    now(),
    {
      directoryUrl: plan.directoryUrl,
      previous: plan.previousStatus.run,
    },
  );
  const stopped = ports.stopRequested();
  if (runFailure) {
    run.result = 'Failed';
    run.reason = runFailure.reason;
    run.message = runFailure.message;
  } else if (stopped) {
    run.result = 'Failed';
    run.reason = RUN_FAILURE_REASONS.stopped;
    run.message = `The run was stopped (${stopped}).`;
  }
  // A run that stopped early did not succeed: its last success stays the earlier one.
  if (run.result !== 'Succeeded') {
    if (plan.previousStatus.run?.lastSuccessAt)
      run.lastSuccessAt = plan.previousStatus.run.lastSuccessAt;
    else delete run.lastSuccessAt;
  }
  await ports.writeStatus(statuses, run);
  return { run, certificates: statuses };
}

function write(logger: Logger, line: LogLine): void {
  logger[line.level](line.message, line.fields);
}

/** The object an Event is recorded on: the requester of a TLS entry. */
function targetOf(ref: EntryRef): Requester {
  return { kind: ref.kind, namespace: ref.namespace, name: ref.name, uid: ref.uid };
}
