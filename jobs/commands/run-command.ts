/**
 * `run`: one reconcile pass, as the CronJob runs it. Takes the Lease (or exits 0 when another
 * run holds it), gathers after taking it (a run that held it may just have done the work),
 * decides, acts, cleans up the challenge routes and tokens, writes the status, releases the
 * Lease, and logs a summary line.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { CertificateAuthority } from '../acme/certificate-authority.js';
import type { JobSettings } from '../config.js';
import { issueCertificate, type IssueDependencies } from '../issue/issue-certificate.js';
import { selfCheck } from '../issue/self-check.js';
import { AccountSecretStore } from '../kube/account-secret.js';
import { ChallengeStore } from '../kube/challenge-store.js';
import { EventRecorder } from '../kube/event-recorder.js';
import { RunLease } from '../kube/run-lease.js';
import { SecretStore } from '../kube/secret-store.js';
import { StatusStore } from '../kube/status-store.js';
import { createChallengeRouters } from '../routing/challenge-router.js';
import { reconcile, type RunReport } from '../run/reconcile.js';
import { gatherAndDecide } from '../run/snapshot.js';
import { decisionSettings, gatherPorts, kubeClients } from './wiring.js';

/** Runs once; returns the exit code (0 all fine or lease held elsewhere, 1 any failure). */
export async function runCommand(settings: JobSettings, logger: Logger): Promise<number> {
  const now = () => new Date();
  const startedAt = now();
  const clients = kubeClients();

  const identity = `${process.env.HOSTNAME ?? hostname()}-${randomBytes(3).toString('hex')}`;
  const lease = new RunLease(
    clients.coordination,
    settings.namespace,
    settings.leaseName,
    identity,
    settings.leaseDuration,
  );
  const outcome = await lease.acquire();
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
  let leaseHeld = true;
  const renewal = setInterval(() => {
    lease
      .renew()
      .then((held) => {
        if (!held && leaseHeld)
          logger.error('lost the Lease to another run; no further orders are started');
        leaseHeld &&= held;
      })
      .catch((error: unknown) => {
        logger.warn('could not renew the Lease', { error: describeError(error) });
      });
  }, settings.leaseDuration / 3);
  renewal.unref();

  const challengeStore = new ChallengeStore(
    clients.core,
    settings.namespace,
    settings.challengeConfigMap,
  );
  const routers = createChallengeRouters({ kubeConfig: clients.config, settings, logger });
  const secrets = new SecretStore(clients.core);
  const events = new EventRecorder(clients.core, now);
  const status = new StatusStore(clients.core, settings.namespace, settings.statusConfigMap);
  // acme-client is loaded on the first order only: a run with nothing to issue neither pays for
  // it in memory nor sends an ACME request.
  let acme:
    | Promise<{
        authority: CertificateAuthority;
        createCsr: IssueDependencies['createCsr'];
        requests: () => number;
      }>
    | undefined;
  const loadAcme = () =>
    (acme ??= (async () => {
      const [{ AcmeAuthority }, http, { createCsr }] = await Promise.all([
        import('../acme/acme-authority.js'),
        import('../acme/acme-http.js'),
        import('../acme/csr.js'),
      ]);
      http.configureAcmeHttp({ timeoutMs: settings.acmeTimeout });
      const atStart = http.acmeRequestCount();
      const authority = new AcmeAuthority({
        directoryUrl: settings.url,
        email: settings.email,
        profile: settings.acmeProfile,
        accounts: new AccountSecretStore(clients.core, settings.namespace, settings.secretName),
        logger,
        now,
      });
      return { authority, createCsr, requests: () => http.acmeRequestCount() - atStart };
    })());
  let report: RunReport | undefined;
  try {
    const plan = await gatherAndDecide(
      gatherPorts(clients, settings),
      decisionSettings(settings),
      now(),
    );
    const result = await reconcile(
      plan,
      {
        issue: async (certificate, log) => {
          const { authority, createCsr } = await loadAcme();
          return issueCertificate(certificate, {
            authority,
            createCsr,
            challenges: challengeStore,
            routes: routers[certificate.provider],
            secrets,
            keyPolicy: { keyType: settings.keyType, rsaKeySize: settings.rsaKeySize },
            waitUntilServed: (challenges) =>
              settings.selfCheck
                ? selfCheck(
                    challenges,
                    {
                      port: settings.selfCheckPort,
                      dnsServer: settings.dnsServer,
                      initialIntervalMs: settings.backoffInitialInterval,
                      maxElapsedMs: settings.backoffMaxElapsedTime,
                    },
                    log,
                  )
                : sleep(settings.selfCheckWait).then(() => undefined),
            logger: log,
            now,
          });
        },
        recordEvent: (target, type, reason, message) =>
          events.record(target, type, reason, message),
        // The request counts go into the run's record, for the responder's metrics.
        writeStatus: async (certificates, run) =>
          status.write(certificates, {
            ...run,
            apiRequests: clients.requests.count(),
            acmeRequests: acme ? (await acme).requests() : 0,
          }),
        mayContinue: () => leaseHeld,
      },
      logger,
      now,
      startedAt,
    );
    report = result;
    return result.run.failed > 0 ? 1 : 0;
  } finally {
    // Always, not only after an order: a run that crashed may have left routes or tokens.
    // Only providers in use: gce's cleanup lists Services cluster-wide, which RBAC may not allow
    // an nginx-only installation.
    for (const provider of settings.supportedIngressProvider) {
      await routers[provider].cleanup().catch((error: unknown) => {
        logger.warn('could not clean up challenge routes', { error: describeError(error) });
      });
    }
    await challengeStore.clear().catch((error: unknown) => {
      logger.warn('could not remove leftover challenge tokens', { error: describeError(error) });
    });
    clearInterval(renewal);
    await lease.release();
    if (report) {
      logger.info('run finished', {
        result: report.run.result,
        entries: report.run.entries,
        issued: report.run.issued,
        renewed: report.run.renewed,
        valid: report.run.valid,
        skipped: report.run.skipped,
        failed: report.run.failed,
        durationMs: Date.now() - startedAt.getTime(),
        apiRequests: clients.requests.count(),
        acmeRequests: acme ? (await acme).requests() : 0,
      });
    }
  }
}
