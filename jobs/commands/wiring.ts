/**
 * The job's composition root: the one place where the settings become adapters and the adapters
 * become the ports of gather, decide and act. Every command builds its parts here, once; no other
 * file makes an API client or a store. Building makes no request and loads no ACME code:
 * acme-client is loaded on the first order only, so a run with nothing to issue neither pays for
 * it in memory nor sends an ACME request.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { KubeHttp } from '../../shared/kube/kube-http.js';
import { loadKubeEndpoint } from '../../shared/kube/load-endpoint.js';
import type { CertificateAuthority } from '../acme/certificate-authority.js';
import type { JobSettings } from '../config.js';
import {
  collectKeptOrder,
  installKeptCertificate,
  issueCertificate,
  type IssueDependencies,
} from '../issue/issue-certificate.js';
import { KeptCertificateStore } from '../kube/kept-certificate-store.js';
import { keptUse, type KeptCertificate } from '../../shared/kept-certificates.js';
import { pauseFrom } from '../test-pause.js';
import type { StopRequest } from '../run/stop-request.js';
import type { DesiredCertificate, GatewayView } from '../model.js';
import { selfCheck, selfCheckEach, type SelfCheckOptions } from '../issue/self-check.js';
import {
  PROBE_USER_AGENT,
  preflightRoutes,
  probeRoutes,
  type HostProbe,
  type RouteProbeDependencies,
} from '../issue/route-preflight.js';
import { preflightStatus, withPreflight } from '../decide/preflight-status.js';
import {
  statusKey,
  type CertificateStatus,
  type PreflightStatus,
} from '../../shared/status-entries.js';
import { RouteUnreachableError } from '../../shared/errors.js';
import { AccountSecretStore } from '../kube/account-secret.js';
import { ChallengeStore } from '../kube/challenge-store.js';
import { EventRecorder } from '../kube/event-recorder.js';
import { listIngresses } from '../kube/ingress-source.js';
import { readGatewaysIfServed } from '../kube/gateway-reading.js';
import { RunLease } from '../kube/run-lease.js';
import { listRunCronJobs } from '../kube/run-cronjobs.js';
import type { RunCronJobLookup } from './run-now-hint.js';
import { SecretStore } from '../kube/secret-store.js';
import { StatusStore } from '../kube/status-store.js';
import { createChallengeRouters } from '../routing/routers.js';
import type { ActPorts } from '../run/reconcile.js';
import type { RenewalInfoSource } from '../acme/renewal-info.js';
import type { CertificateInput } from '../decide/action.js';
import { gatherRenewalInfo } from '../run/renewal-info-gather.js';
import { randomFrom } from '../test-random.js';
import type { DecisionSettings, GatherPorts } from '../run/snapshot.js';

/** Everything the commands use, built from the settings. */
export interface JobParts {
  /** Kubernetes API requests made so far (for the summary line). */
  apiRequests(): number;
  /** ACME requests made so far; 0 when no order was started (acme-client never loaded). */
  acmeRequests(): Promise<number>;
  gather: GatherPorts;
  /**
   * The ARI part of gathering (jobs/run/renewal-info-gather.ts); `undefined` when
   * LEGO_RENEWAL_INFO is false. Never throws.
   */
  gatherRenewalInfo: ((inputs: CertificateInput[]) => Promise<CertificateInput[]>) | undefined;
  /**
   * The profile names LEGO_URL's directory advertises (`meta.profiles`), sorted; `undefined`
   * when it advertises none. One unauthenticated GET of the directory, no account.
   * @throws AcmeUnavailableError when the directory cannot be read.
   */
  advertisedProfiles(): Promise<string[] | undefined>;
  decisionSettings: DecisionSettings;
  status: StatusStore;
  /** The run's Lease, with an identity unique to this process. */
  lease: RunLease;
  /** The act step's ports; `mayContinue` says whether the run still holds its Lease. */
  actPorts(mayContinue: () => boolean): ActPorts;
  /**
   * Reads the kept certificates (shared/kept-certificates.ts) when some certificate is `wanted`
   * (to be issued or backing off): a run with nothing to do reads nothing. An entry of a wanted
   * certificate that can no longer serve it (hosts, key type or directory changed, expired) is
   * removed with a log line.
   * @throws KubeApiError when they cannot be read or an unusable one cannot be removed.
   */
  loadKept(wanted: readonly DesiredCertificate[]): Promise<void>;
  /**
   * End of a run: removes the challenge routes of the providers in use and every challenge token
   * left (also by a run that crashed). Never throws; what cannot be removed is logged.
   */
  cleanup(): Promise<void>;
  /**
   * `check-routes`: opens the challenge routes of `certificate`, probes each host
   * (jobs/issue/route-preflight.ts) and closes the routes (a failure to close is logged; `cleanup`
   * retries). Orders nothing.
   * @throws RoutingError when the routes cannot be opened; KubeApiError when the probes cannot be
   *   published.
   */
  probeRoutes(certificate: DesiredCertificate, logger: Logger): Promise<HostProbe[]>;
  /**
   * The reconcile CronJobs of the install's namespace (jobs/kube/run-cronjobs.ts), for the
   * one-liner `retry` and `renew` print. Never throws: a failure is `{ failed }` with its message.
   */
  runCronJobs(): Promise<RunCronJobLookup>;
}

/** What every command gets besides its settings and logger. */
export interface CommandContext {
  /** The run's clock (jobs/test-clock.ts). */
  now: () => Date;
  /** Set by SIGTERM or SIGINT (jobs/run/stop-request.ts). */
  stop: StopRequest;
}

/**
 * The API client of the current context (in-cluster or kubeconfig, shared/kube/load-endpoint.ts);
 * every request is limited to `settings.kubeTimeout`.
 * @throws NoKubeConfigError or KubeLegoError when there is no usable configuration.
 */
export async function kubeClient(settings: Pick<JobSettings, 'kubeTimeout'>): Promise<KubeHttp> {
  return new KubeHttp(await loadKubeEndpoint(), {
    timeoutMs: settings.kubeTimeout,
    userAgent: 'kube-lego-job',
  });
}

/**
 * Builds the job's parts. Makes no request; reads the Kubernetes configuration.
 * @throws as {@link kubeClient}.
 */
export async function wireJob(
  settings: JobSettings,
  logger: Logger,
  { now, stop }: CommandContext,
): Promise<JobParts> {
  const kube = await kubeClient(settings);
  const keptStore = new KeptCertificateStore(kube, settings.namespace);
  let kept: KeptCertificate[] = [];
  const wantedOf = (certificate: DesiredCertificate) => ({
    ...certificate,
    keyType: settings.keyType,
    rsaKeySize: settings.rsaKeySize,
    directoryUrl: settings.url,
  });
  // The kept entry of a certificate and what it is good for; loadKept dropped the unusable ones.
  const keptFor = (certificate: DesiredCertificate) => {
    const entry = kept.find(
      (k) => k.namespace === certificate.namespace && k.secretName === certificate.secretName,
    );
    if (!entry) return undefined;
    const use = keptUse(entry, wantedOf(certificate), now()).use;
    return use === 'drop' ? undefined : { entry, use };
  };
  const pause = pauseFrom(process.env, logger);
  const secrets = new SecretStore(kube);
  const status = new StatusStore(kube, settings.namespace, settings.statusConfigMap);
  const challenges = new ChallengeStore(kube, settings.namespace, settings.challengeConfigMap);
  const events = new EventRecorder(kube, now);
  const routers = createChallengeRouters({ kube, settings, logger });
  const identity = `${process.env.HOSTNAME ?? hostname()}-${randomBytes(3).toString('hex')}`;
  const lease = new RunLease(
    kube,
    settings.namespace,
    settings.leaseName,
    identity,
    settings.leaseDuration,
  );

  // Gateways (Gateway API): read when LEGO_SOURCES names them, or by default when discovery
  // finds the API; once per command. A cluster without it costs one request and one info line.
  let gateways: Promise<GatewayView[]> | undefined;
  const readGateways = () => readGatewaysIfServed(kube, settings, logger);

  // The route preflight's results of this run, for the status (jobs/decide/preflight-status.ts).
  const preflights = new Map<string, PreflightStatus>();
  let recorded: readonly CertificateStatus[] = [];
  // Same resolver, port and patience as the self-check: the probe must see what Pebble or Let's
  // Encrypt would see.
  const probeDependencies = (log: Logger): RouteProbeDependencies => ({
    challenges,
    checkServed: (probes) =>
      selfCheckEach(probes, selfCheckOptions(settings, stop, PROBE_USER_AGENT), log),
    logger: log,
    abandon: stop.abandon,
  });
  // The run's preflight: recorded whatever it found, thrown on when a host is unreachable.
  const preflight = async (certificate: DesiredCertificate, log: Logger): Promise<void> => {
    const key = statusKey(certificate.namespace, certificate.secretName);
    try {
      await preflightRoutes(certificate.hosts, probeDependencies(log));
      preflights.set(key, preflightStatus([], now()));
    } catch (error) {
      if (error instanceof RouteUnreachableError)
        preflights.set(key, preflightStatus(error.unreachable, now()));
      throw error;
    }
  };

  let acme: Promise<AcmeParts> | undefined;
  const loadAcme = () => (acme ??= loadAcmeParts(settings, kube, logger, now));

  // ARI (RFC 9773): asked only when some certificate's next-ask time has come, so loading the
  // ACME client is deferred to then.
  const random = randomFrom(process.env);
  const renewalInfoSource = async () => (await loadAcme()).renewalInfo;
  const gatherRenewalInfoPort = settings.renewalInfo
    ? (inputs: CertificateInput[]) =>
        gatherRenewalInfo(inputs, renewalInfoSource, now(), random, logger)
    : undefined;

  // The issue port: one certificate, ordered and stored (jobs/issue/issue-certificate.ts).
  const issue: ActPorts['issue'] = async (certificate, log, options = {}) => {
    const waiting = keptFor(certificate);
    const removeKept = (namespace: string, secretName: string) =>
      keptStore.remove(namespace, secretName).then(() => {
        kept = kept.filter((k) => k.namespace !== namespace || k.secretName !== secretName);
      });
    if (waiting?.entry.certificatePem !== undefined)
      return installKeptCertificate(
        certificate,
        { ...waiting.entry, certificatePem: waiting.entry.certificatePem },
        {
          secrets,
          authority: { directoryUrl: settings.url },
          now,
          logger: log,
          removeKept,
        },
      );
    const { authority: plainAuthority, createCsr, renewalInfo } = await loadAcme();
    // `replaces` only where the directory offers ARI (RFC 9773 §5).
    const replaces =
      settings.renewalInfo && options.replaces && (await renewalInfo.offered().catch(() => false))
        ? options.replaces
        : undefined;
    const authority: CertificateAuthority = replaces
      ? {
          directoryUrl: plainAuthority.directoryUrl,
          obtain: (request, hooks) => plainAuthority.obtain({ ...request, replaces }, hooks),
          collect: (orderUrl, csr) => plainAuthority.collect(orderUrl, csr),
        }
      : plainAuthority;
    let committed = false;
    const deps: IssueDependencies = {
      abandon: stop.abandon,
      onCommitted: () => {
        committed = true;
      },
      keep: (entry) => keptStore.keep(entry),
      removeKept,
      pauseBeforeStore: () => pause('before-store'),
      authority,
      createCsr,
      challenges,
      routes: routers[certificate.provider],
      secrets,
      keyPolicy: { keyType: settings.keyType, rsaKeySize: settings.rsaKeySize },
      // The route preflight is part of the self-check: off together (LEGO_SELF_CHECK).
      ...(settings.selfCheck ? { preflight: (c: DesiredCertificate) => preflight(c, log) } : {}),
      waitUntilServed: (entries) =>
        settings.selfCheck
          ? selfCheck(entries, selfCheckOptions(settings, stop), log)
          : sleep(settings.selfCheckWait, undefined, { signal: stop.abandon }).then(
              () => undefined,
            ),
      logger: log,
      now,
    };
    if (waiting?.entry.orderUrl !== undefined) {
      // Issued already (or at least finalizable): downloading it costs no new order.
      const { entry } = waiting;
      const collected = await collectKeptOrder(
        certificate,
        { ...entry, orderUrl: waiting.entry.orderUrl },
        deps,
      );
      if (collected) return collected;
    }
    const order = issueCertificate(certificate, deps);
    return stop.withinGrace(order, () => committed);
  };

  return {
    runCronJobs: () =>
      listRunCronJobs(kube, settings.namespace).then(
        (names) => ({ names }),
        (error: unknown) => ({ failed: describeError(error) }),
      ),
    apiRequests: () => kube.requests(),
    acmeRequests: async () => (acme ? (await acme).requests() : 0),
    gatherRenewalInfo: gatherRenewalInfoPort,
    advertisedProfiles: async () => {
      await loadAcme();
      const { readAdvertisedProfiles } = await import('../acme/directory-profiles.js');
      return readAdvertisedProfiles(settings.url);
    },
    gather: {
      listIngresses: () =>
        settings.sources.length > 0 && !settings.sources.includes('ingress')
          ? Promise.resolve([])
          : listIngresses(kube, settings.watchNamespace),
      listGateways: () => (gateways ??= readGateways()),
      listTlsSecrets: (recorded) => secrets.listTlsSecrets(settings.watchNamespace, recorded),
      getSecret: (namespace, name) => secrets.get(namespace, name),
      readStatus: async () => {
        const read = await status.read();
        recorded = read.certificates;
        return read;
      },
    },
    decisionSettings: decisionSettings(settings),
    status,
    lease,
    actPorts: (mayContinue) => ({
      issue,
      recordEvent: (target, type, reason, message) => events.record(target, type, reason, message),
      // The request counts go into the run's record, for the responder's metrics.
      writeStatus: async (certificates, run) =>
        status.write(withPreflight(certificates, recorded, preflights), {
          ...run,
          apiRequests: kube.requests(),
          acmeRequests: acme ? (await acme).requests() : 0,
        }),
      mayContinue,
      stopRequested: () => stop.requested,
      keptUse: (certificate) => keptFor(certificate)?.use,
      clearRequest: (request) => status.clearRequest(request),
    }),
    loadKept: async (wanted) => {
      if (wanted.length === 0) return;
      const read = await keptStore.list();
      for (const key of read.malformed)
        logger.warn('kept certificate entry skipped: unreadable', { entry: key.slice(0, 100) });
      kept = [];
      for (const entry of read.entries) {
        const certificate = wanted.find(
          (c) => c.namespace === entry.namespace && c.secretName === entry.secretName,
        );
        const use = certificate ? keptUse(entry, wantedOf(certificate), now()) : undefined;
        if (use?.use !== 'drop') {
          kept.push(entry);
          continue;
        }
        logger.info('kept certificate dropped: it can no longer serve its Secret', {
          namespace: entry.namespace,
          secret: entry.secretName,
          keptAt: entry.keptAt,
          why: use.message,
        });
        await keptStore.remove(entry.namespace, entry.secretName);
      }
    },
    probeRoutes: async (certificate, log) => {
      const routes = routers[certificate.provider];
      await routes.open(certificate);
      try {
        return await probeRoutes(certificate.hosts, probeDependencies(log));
      } finally {
        await routes.close(certificate).catch((error: unknown) => {
          log.warn('could not remove challenge routes; the end of the command retries', {
            error: describeError(error),
          });
        });
      }
    },
    cleanup: async () => {
      // Only providers in use: gce's cleanup lists Services cluster-wide, which RBAC may not
      // allow an nginx-only installation.
      const inUse = [
        ...settings.supportedIngressProvider,
        ...((await gateways?.catch(() => undefined))?.length ? (['gateway'] as const) : []),
      ];
      for (const provider of inUse) {
        await routers[provider].cleanup().catch((error: unknown) => {
          logger.warn('could not clean up challenge routes', { error: describeError(error) });
        });
      }
      await challenges.clear().catch((error: unknown) => {
        logger.warn('could not remove leftover challenge tokens', { error: describeError(error) });
      });
    },
  };
}

/** The self-check's options (also the route preflight's, with its own User-Agent). */
function selfCheckOptions(
  settings: JobSettings,
  stop: StopRequest,
  userAgent?: string,
): SelfCheckOptions {
  return {
    port: settings.selfCheckPort,
    dnsServer: settings.dnsServer,
    initialIntervalMs: settings.backoffInitialInterval,
    maxElapsedMs: settings.backoffMaxElapsedTime,
    signal: stop.abandon,
    ...(userAgent ? { userAgent } : {}),
  };
}

/** The decide step's view of the settings. */
function decisionSettings(settings: JobSettings): DecisionSettings {
  return {
    kubeAnnotation: settings.kubeAnnotation,
    supportedIngressClass: settings.supportedIngressClass,
    supportedIngressProvider: settings.supportedIngressProvider,
    defaultIngressClass: settings.defaultIngressClass,
    defaultIngressProvider: settings.defaultIngressProvider,
    supportedGatewayClass: settings.supportedGatewayClass,
    namespace: settings.namespace,
    gatewayHttpPort: settings.gatewayHttpPort,
    ipCertificates: settings.ipCertificates,
    acmeProfile: settings.acmeProfile,
    directoryUrl: settings.url,
    keyPolicy: { keyType: settings.keyType, rsaKeySize: settings.rsaKeySize },
    minimumValidityMs: settings.minimumValidity,
  };
}

interface AcmeParts {
  authority: CertificateAuthority;
  renewalInfo: RenewalInfoSource;
  createCsr: IssueDependencies['createCsr'];
  requests: () => number;
}

async function loadAcmeParts(
  settings: JobSettings,
  kube: KubeHttp,
  logger: Logger,
  now: () => Date,
): Promise<AcmeParts> {
  const [{ AcmeAuthority }, http, { createCsr }, { AcmeRenewalInfo }] = await Promise.all([
    import('../acme/acme-authority.js'),
    import('../acme/acme-http.js'),
    import('../acme/csr.js'),
    import('../acme/renewal-info.js'),
  ]);
  http.configureAcmeHttp({ timeoutMs: settings.acmeTimeout, directoryUrl: settings.url });
  const atStart = http.acmeRequestCount();
  const authority = new AcmeAuthority({
    directoryUrl: settings.url,
    email: settings.email,
    profile: settings.acmeProfile,
    accounts: new AccountSecretStore(kube, settings.namespace, settings.secretName),
    logger,
    now,
  });
  return {
    authority,
    createCsr,
    renewalInfo: new AcmeRenewalInfo(settings.url, now),
    requests: () => http.acmeRequestCount() - atStart,
  };
}
