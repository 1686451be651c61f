/**
 * Act: one reconcile run over a {@link RunPlan}. Certificates are issued one at a time (the nginx
 * challenge Ingress routes one certificate's hosts at a time, and Let's Encrypt's limits favour
 * a steady pace); one failing certificate never stops the others. Every outcome is logged with
 * its reason, recorded as an Event on the Ingresses that asked for it, and written to the
 * status ConfigMap, which is also the back-off memory of the next run.
 */
import { AcmeError, describeError, KubeLegoError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type {
  CertificateResult,
  CertificateStatus,
  RunStatus,
} from '../../shared/status-entries.js';
import { isStagingDirectory } from '../../shared/acme-directory.js';
import { nextFailureStatus } from '../decide/backoff.js';
import { renewalDueAt } from '../decide/renewal-threshold.js';
import type { IssuedCertificate } from '../issue/issue-certificate.js';
import type { EventType } from '../kube/event-recorder.js';
import type { DesiredCertificate, IngressRef } from '../model.js';
import { SECRET_ANNOTATIONS } from '../secret-annotations.js';
import type { CertificateDecision, RunPlan } from './snapshot.js';

/** The ports the act step writes through. */
export interface ActPorts {
  issue(certificate: DesiredCertificate, logger: Logger): Promise<IssuedCertificate>;
  recordEvent(
    target: { namespace: string; name: string; uid: string },
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void>;
  writeStatus(certificates: CertificateStatus[], run: RunStatus): Promise<void>;
  /** Whether the run may start another order (false once the Lease was lost). */
  mayContinue(): boolean;
}

export interface RunReport {
  run: RunStatus;
  certificates: CertificateStatus[];
}

/**
 * Carries out a plan and writes the status. Never throws for a single certificate's failure;
 * throws only if the status cannot be written (KubeApiError), after every certificate was tried.
 */
export async function reconcile(
  plan: RunPlan,
  ports: ActPorts,
  logger: Logger,
  now: () => Date,
  startedAt: Date,
): Promise<RunReport> {
  const statuses: CertificateStatus[] = [];
  const counts = { issued: 0, renewed: 0, valid: 0, skipped: plan.skipped.length, failed: 0 };
  const event = async (
    refs: readonly { namespace: string; name: string; uid: string }[],
    type: EventType,
    reason: string,
    message: string,
  ) => {
    for (const ref of refs) {
      try {
        await ports.recordEvent(ref, type, reason, message);
      } catch (error) {
        logger.warn('could not record an Event', {
          namespace: ref.namespace,
          ingress: ref.name,
          error: describeError(error),
        });
      }
    }
  };

  for (const skipped of plan.skipped) {
    logger.info('ingress skipped', {
      namespace: skipped.namespace,
      ingress: skipped.name,
      reason: skipped.reason,
      message: skipped.message,
    });
  }

  // Invalid TLS entries: no certificate, an Event, and a status entry when the Secret is known.
  // Not when its name is invalid (it would make no valid ConfigMap key, and the API server would
  // refuse the whole status), nor when a certificate is decided for the same Secret (its entry,
  // with its failure memory, must not be overwritten).
  const decided = new Set(
    plan.decisions.map((d) => `${d.certificate.namespace}/${d.certificate.secretName}`),
  );
  const invalidBySecret = new Map<string, CertificateStatus>();
  for (const entry of plan.invalid) {
    counts.failed++;
    logger.warn('invalid TLS entry', {
      namespace: entry.ref.namespace,
      ingress: entry.ref.name,
      entry: entry.ref.index,
      secret: entry.secretName,
      reason: entry.reason,
      message: entry.message,
    });
    await event(
      [{ namespace: entry.ref.namespace, name: entry.ref.name, uid: entry.ref.uid }],
      'Warning',
      entry.reason,
      entry.message,
    );
    const key = `${entry.ref.namespace}/${entry.secretName ?? ''}`;
    if (entry.secretName && entry.reason !== 'InvalidSecretName' && !decided.has(key)) {
      const known = invalidBySecret.get(key);
      if (known) known.ingresses.push(`${entry.ref.namespace}/${entry.ref.name}`);
      else
        invalidBySecret.set(key, {
          namespace: entry.ref.namespace,
          secretName: entry.secretName,
          ingresses: [`${entry.ref.namespace}/${entry.ref.name}`],
          hosts: [],
          notAfter: null,
          result: 'Invalid',
          reason: entry.reason,
          message: entry.message,
          checkedAt: now().toISOString(),
          failures: 0,
        });
    }
  }

  for (const decision of plan.decisions) {
    const { certificate, action } = decision;
    const log = logger.child({
      namespace: certificate.namespace,
      secret: certificate.secretName,
      hosts: certificate.hosts.join(','),
    });
    const refs = certificate.ingresses.map((r: IngressRef) => ({
      namespace: r.namespace,
      name: r.name,
      uid: r.uid,
    }));
    const base = baseStatus(decision, plan.minimumValidityMs, now());
    switch (action.kind) {
      case 'Valid':
        counts.valid++;
        log.info('certificate is valid', {
          decision: action.kind,
          reason: action.reason,
          notAfter: decision.facts?.notAfter.toISOString(),
        });
        statuses.push({
          ...withoutFailures(base),
          result: 'Valid',
          reason: action.reason,
          message: action.message,
        });
        break;
      case 'Blocked':
        counts.failed++;
        log.warn('certificate needed but the Secret cannot be written', {
          decision: action.kind,
          reason: action.reason,
          message: action.message,
        });
        await event(refs, 'Warning', action.reason, action.message);
        statuses.push({
          ...base,
          result: 'Invalid',
          reason: action.reason,
          message: action.message,
        });
        break;
      case 'BackingOff':
        counts.failed++;
        log.info('certificate needed; backing off after earlier failures', {
          decision: action.kind,
          reason: action.reason,
          needed: action.needed.reason,
          until: action.until.toISOString(),
        });
        statuses.push({
          ...base,
          result: 'BackingOff',
          reason: action.reason,
          message: action.message,
        });
        break;
      case 'Issue': {
        if (!ports.mayContinue()) {
          counts.failed++;
          log.warn('certificate needed but the run lost its Lease; left for the next run', {
            reason: action.reason,
          });
          statuses.push({
            ...base,
            result: 'Failed',
            reason: 'LeaseLost',
            message: 'The run lost its Lease before ordering this certificate; the next run will.',
          });
          break;
        }
        log.info(action.renewal ? 'renewing certificate' : 'issuing certificate', {
          decision: action.kind,
          reason: action.reason,
          message: action.message,
        });
        try {
          const issued = await ports.issue(certificate, log);
          const result: CertificateResult = action.renewal ? 'Renewed' : 'Issued';
          if (action.renewal) counts.renewed++;
          else counts.issued++;
          const message = `Certificate for ${certificate.hosts.join(', ')} stored in Secret ${certificate.secretName}, valid until ${issued.notAfter.toISOString()} (${action.reason}: ${action.message})`;
          // The directory and whether it is staging, so that nobody takes a staging
          // certificate (untrusted by browsers) for a real one.
          log.info(action.renewal ? 'certificate renewed' : 'certificate issued', {
            notAfter: issued.notAfter.toISOString(),
            serial: issued.serialNumber,
            directory: issued.directoryUrl,
            staging: isStagingDirectory(issued.directoryUrl),
          });
          await event(refs, 'Normal', result, message);
          statuses.push({
            ...withoutFailures(base),
            notAfter: issued.notAfter.toISOString(),
            notBefore: issued.notBefore.toISOString(),
            renewalAt: renewalDueAt(
              issued.notBefore,
              issued.notAfter,
              plan.minimumValidityMs,
            ).toISOString(),
            directoryUrl: issued.directoryUrl,
            result,
            reason: action.reason,
            message,
          });
        } catch (error) {
          counts.failed++;
          const failure = describeFailure(error);
          const fields = nextFailureStatus(decision.previous, certificate.hosts, failure, now());
          log.error('certificate could not be obtained', {
            reason: failure.reason,
            error: failure.message,
            failures: fields.failures,
            retryAfter: fields.retryAfter,
          });
          await event(
            refs,
            'Warning',
            'IssuanceFailed',
            `${failure.message} Next attempt not before ${fields.retryAfter}.`,
          );
          statuses.push({ ...base, ...fields });
        }
        break;
      }
    }
  }
  statuses.push(...invalidBySecret.values());

  const finishedAt = now();
  const result = counts.failed > 0 ? 'Failed' : 'Succeeded';
  const lastSuccessAt =
    result === 'Succeeded' ? finishedAt.toISOString() : plan.previousStatus.run?.lastSuccessAt;
  const run: RunStatus = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    result,
    entries: plan.decisions.length + plan.invalid.length,
    ...counts,
    directoryUrl: plan.directoryUrl,
    ...(lastSuccessAt ? { lastSuccessAt } : {}),
  };
  await ports.writeStatus(statuses, run);
  return { run, certificates: statuses };
}

function baseStatus(
  decision: CertificateDecision,
  minimumValidityMs: number,
  now: Date,
): CertificateStatus {
  const { certificate, facts, previous, secret } = decision;
  const directoryUrl = facts ? secret?.annotations[SECRET_ANNOTATIONS.directoryUrl] : undefined;
  return {
    namespace: certificate.namespace,
    secretName: certificate.secretName,
    ingresses: certificate.ingresses.map((r) => `${r.namespace}/${r.name}`),
    hosts: certificate.hosts,
    notAfter: facts ? facts.notAfter.toISOString() : null,
    ...(facts
      ? {
          notBefore: facts.notBefore.toISOString(),
          renewalAt: renewalDueAt(facts.notBefore, facts.notAfter, minimumValidityMs).toISOString(),
        }
      : {}),
    ...(directoryUrl ? { directoryUrl } : {}),
    result: 'Valid',
    reason: '',
    message: '',
    checkedAt: now.toISOString(),
    // Failure memory carries over until a success or a Valid decision resets it.
    failures: previous?.failures ?? 0,
    ...(previous?.lastFailureAt ? { lastFailureAt: previous.lastFailureAt } : {}),
    ...(previous?.retryAfter ? { retryAfter: previous.retryAfter } : {}),
    ...(previous?.failedHosts ? { failedHosts: previous.failedHosts } : {}),
  };
}

/** A status with the failure memory cleared: after a success or a valid certificate. */
function withoutFailures(status: CertificateStatus): CertificateStatus {
  const {
    lastFailureAt: _lastFailureAt,
    retryAfter: _retryAfter,
    failedHosts: _failedHosts,
    ...rest
  } = status;
  return { ...rest, failures: 0 };
}

/** A stable reason and a message for a failed issuance, with the server's Retry-After. */
function describeFailure(error: unknown): { reason: string; message: string; retryAfter?: Date } {
  if (error instanceof AcmeError) {
    const type = error.problemType?.replace('urn:ietf:params:acme:error:', '');
    return {
      reason: type ? `Acme${type.charAt(0).toUpperCase()}${type.slice(1)}` : 'AcmeError',
      message: error.message,
      ...(error.retryAfter ? { retryAfter: error.retryAfter } : {}),
    };
  }
  if (error instanceof KubeLegoError)
    return { reason: error.name.replace(/Error$/, ''), message: describeError(error) };
  return { reason: 'UnexpectedError', message: describeError(error) };
}
