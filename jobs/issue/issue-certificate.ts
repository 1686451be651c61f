/**
 * Act: obtains and stores one certificate. The order of steps is what makes it safe:
 *  1. a fresh key and a CSR for exactly the certificate's hosts;
 *  2. challenge routes opened and proved with probes (route preflight), then an order: tokens
 *     published, each one self-checked, then validated;
 *  3. tokens and routes withdrawn whatever happened (finally), a cleanup failure logged without
 *     hiding the original error;
 *  4. before finalization (RFC 8555 §7.4) the order's URL and the key are kept
 *     (shared/kept-certificates.ts), so a certificate issued but never stored can be downloaded
 *     again by the next run instead of ordered again;
 *  5. only a complete chain for every host is written — `tls.crt` and `tls.key` in one update —
 *     so a failed name never leaves a partial certificate behind; then the kept entry goes.
 */
import { X509Certificate } from 'node:crypto';
import { describeError, KubeLegoError } from '../../shared/errors.js';
import type { ChallengeEntry } from '../../shared/challenge-entries.js';
import type { Logger } from '../../shared/logger.js';
import type { CertificateAuthority } from '../acme/certificate-authority.js';
import type { ChallengeStore } from '../kube/challenge-store.js';
import type { SecretStore } from '../kube/secret-store.js';
import { generatePrivateKey, type KeyPolicy } from '../key-type.js';
import type { DesiredCertificate } from '../model.js';
import { readSubjectAltNames } from '../decide/certificate-facts.js';
import { SECRET_ANNOTATIONS } from '../tls-secret.js';
import type { KeptCertificate } from '../../shared/kept-certificates.js';

/** Routes challenge traffic for a certificate's hosts to the responder (jobs/routing/). */
export interface ChallengeRoutes {
  open(certificate: DesiredCertificate): Promise<void>;
  close(certificate: DesiredCertificate): Promise<void>;
}

export interface IssueDependencies {
  authority: CertificateAuthority;
  /** Builds the CSR for a fresh key (jobs/acme/csr.ts). */
  createCsr: (
    hosts: readonly string[],
    commonName: string | undefined,
    privateKeyPem: string,
  ) => Promise<Buffer>;
  challenges: Pick<ChallengeStore, 'add' | 'remove'>;
  routes: ChallengeRoutes;
  secrets: Pick<SecretStore, 'storeCertificate' | 'checkCertificateWrite'>;
  /** Resolves when the published challenges are reachable (self-check or fixed wait). */
  waitUntilServed: (challenges: readonly ChallengeEntry[]) => Promise<void>;
  keyPolicy: KeyPolicy;
  logger: Logger;
  now: () => Date;
  /**
   * Aborted when the run abandons this order (a stop request whose grace period ran out): no
   * further step is taken, so nothing is published after the run's final cleanup.
   */
  abandon?: AbortSignal;
  /**
   * Keeps a certificate that was obtained but could not be stored (shared/kept-certificates.ts),
   * for a later run to install instead of ordering again.
   */
  keep: (kept: KeptCertificate) => Promise<void>;
  /** Removes the kept entry of a Secret once its certificate is stored. */
  removeKept: (namespace: string, secretName: string) => Promise<void>;
  /** Called once the order is validated: from here on it is finished, not abandoned. */
  onCommitted?: () => void;
  /**
   * The route preflight (jobs/issue/route-preflight.ts), run once the routes are open and before
   * the order is created; it throws (RouteUnreachableError) to prevent the order. Absent: none.
   */
  preflight?: (certificate: DesiredCertificate) => Promise<void>;
  /**
   * Test hook (jobs/test-pause.ts): awaited after the download, before the Secret write, so a
   * test can take the API server away at exactly that moment. Absent in production.
   */
  pauseBeforeStore?: () => Promise<void>;
}

/** What was stored. */
export interface IssuedCertificate {
  notBefore: Date;
  notAfter: Date;
  serialNumber: string;
  /** The ACME directory that issued it. */
  directoryUrl: string;
}

/** The server returned something that is not a usable chain for the hosts. */
export class InvalidChainError extends KubeLegoError {}

/**
 * Obtains a certificate for `certificate.hosts` and stores it in its Secret.
 * @throws AcmeError, RouteUnreachableError, SelfCheckError, RoutingError, KubeApiError, SecretTypeMismatchError or
 *   InvalidChainError; nothing is written to the Secret when it throws before the store step.
 */
export async function issueCertificate(
  certificate: DesiredCertificate,
  deps: IssueDependencies,
): Promise<IssuedCertificate> {
  const log = deps.logger;
  const privateKeyPem = await generatePrivateKey(deps.keyPolicy);
  // Nothing is ordered that could not be stored: a certificate thrown away still counts against
  // Let's Encrypt's limit of 5 duplicate certificates per week (letsencrypt.org/docs/rate-limits).
  await deps.secrets.checkCertificateWrite({
    namespace: certificate.namespace,
    name: certificate.secretName,
    privateKeyPem,
    annotations: secretAnnotations(certificate, deps, undefined),
  });
  const csr = await deps.createCsr(certificate.hosts, certificate.commonName, privateKeyPem);

  let chainPem: string;
  let orderUrl: string | undefined;
  deps.abandon?.throwIfAborted();
  await deps.routes.open(certificate);
  try {
    // No order for a host whose route does not reach the responder: it would only fail.
    await deps.preflight?.(certificate);
    chainPem = await deps.authority.obtain(
      { hosts: certificate.hosts, csr },
      {
        present: async (challenges) => {
          deps.abandon?.throwIfAborted();
          await deps.challenges.add(challenges);
          log.debug('challenges published', { tokens: challenges.length });
          await deps.waitUntilServed(challenges);
        },
        validated: () => deps.onCommitted?.(),
        // Recorded before a certificate can exist: if it cannot be recorded (the API server is
        // gone: KubeApiUnavailable), nothing is finalized and nothing issued is lost.
        finalizing: async (url) => {
          await deps.keep(keptEntry(certificate, deps, privateKeyPem, { orderUrl: url }));
          orderUrl = url;
        },
        cleanup: async (challenges) => {
          try {
            await deps.challenges.remove(challenges.map((c) => c.token));
          } catch (error) {
            log.warn('could not withdraw challenge tokens; the next run removes them', {
              error: describeError(error),
            });
          }
        },
      },
    );
  } finally {
    try {
      await deps.routes.close(certificate);
    } catch (error) {
      log.warn('could not remove challenge routes; the end of the run retries', {
        error: describeError(error),
      });
    }
  }

  return storeObtained(certificate, chainPem, privateKeyPem, orderUrl, deps);
}

/**
 * Checks and stores a chain just obtained (ordered, or downloaded from a kept order): on success
 * the kept entry is removed; on failure the chain joins the kept entry (never thrown away) and
 * the write's error is thrown. A chain that is not for the hosts is not kept: its order is
 * dropped, so no later run downloads it again.
 */
async function storeObtained(
  certificate: DesiredCertificate,
  chainPem: string,
  privateKeyPem: string,
  orderUrl: string | undefined,
  deps: IssueDependencies,
): Promise<IssuedCertificate> {
  const log = deps.logger;
  let leaf: X509Certificate;
  try {
    leaf = checkChain(chainPem, certificate.hosts);
  } catch (error) {
    await removeKeptQuietly(certificate, deps);
    throw error;
  }
  const notAfter = new Date(leaf.validTo);
  log.info('certificate obtained; storing it', {
    notAfter: notAfter.toISOString(),
    serial: leaf.serialNumber,
  });
  await deps.pauseBeforeStore?.();
  try {
    await deps.secrets.storeCertificate({
      namespace: certificate.namespace,
      name: certificate.secretName,
      certificatePem: chainPem,
      privateKeyPem,
      annotations: secretAnnotations(certificate, deps, notAfter),
    });
  } catch (error) {
    // Never thrown away: a certificate Let's Encrypt issued counts against its duplicate limit
    // (5 per week for the same names) whether or not it was stored.
    try {
      await deps.keep(
        keptEntry(certificate, deps, privateKeyPem, {
          ...(orderUrl ? { orderUrl } : {}),
          certificatePem: chainPem,
          notAfter: notAfter.toISOString(),
        }),
      );
      log.warn('certificate obtained but not stored; kept for a later run to install', {
        error: describeError(error),
      });
    } catch (keepError) {
      log.error(
        'certificate obtained but neither stored nor kept; the next run downloads it again from its order',
        { error: describeError(error), keepError: describeError(keepError) },
      );
    }
    throw error;
  }
  await removeKeptQuietly(certificate, deps);
  return {
    notBefore: new Date(leaf.validFrom),
    notAfter,
    serialNumber: leaf.serialNumber,
    directoryUrl: deps.authority.directoryUrl,
  };
}

/**
 * Downloads the certificate of a kept order (an entry without a chain: the run that ordered it
 * ended between finalization and storing) and stores it, instead of ordering again.
 * @returns what was stored; `undefined` when the order can no longer give a certificate (the
 *   entry is then removed, with a log line, and the caller orders as usual).
 * @throws as {@link issueCertificate}'s store step, or AcmeError / AcmeUnavailableError from the
 *   download; the entry stays kept.
 */
export async function collectKeptOrder(
  certificate: DesiredCertificate,
  kept: KeptCertificate & { orderUrl: string },
  deps: IssueDependencies,
): Promise<IssuedCertificate | undefined> {
  const csr = await deps.createCsr(certificate.hosts, certificate.commonName, kept.privateKeyPem);
  const collected = await deps.authority.collect(kept.orderUrl, csr);
  if ('unusable' in collected) {
    deps.logger.info('kept order dropped: it can no longer give a certificate; ordering again', {
      keptAt: kept.keptAt,
      why: collected.unusable,
    });
    await deps.removeKept(certificate.namespace, certificate.secretName);
    return undefined;
  }
  deps.logger.info('downloaded the certificate of a kept order instead of ordering', {
    keptAt: kept.keptAt,
  });
  return storeObtained(certificate, collected.chainPem, kept.privateKeyPem, kept.orderUrl, deps);
}

/** Removes the kept entry of a stored certificate; a failure is logged (a later run drops it). */
async function removeKeptQuietly(
  certificate: DesiredCertificate,
  deps: Pick<IssueDependencies, 'removeKept' | 'logger'>,
): Promise<void> {
  try {
    await deps.removeKept(certificate.namespace, certificate.secretName);
  } catch (error) {
    deps.logger.warn('could not remove the kept entry of a stored certificate', {
      error: describeError(error),
    });
  }
}

/** A kept entry for `certificate` with the fields common to every stage. */
function keptEntry(
  certificate: DesiredCertificate,
  deps: Pick<IssueDependencies, 'keyPolicy' | 'authority' | 'now'>,
  privateKeyPem: string,
  stage: Pick<KeptCertificate, 'orderUrl' | 'certificatePem' | 'notAfter'>,
): KeptCertificate {
  return {
    namespace: certificate.namespace,
    secretName: certificate.secretName,
    hosts: [...certificate.hosts].sort(),
    keyType: deps.keyPolicy.keyType,
    ...(deps.keyPolicy.keyType === 'rsa' ? { rsaKeySize: deps.keyPolicy.rsaKeySize } : {}),
    directoryUrl: deps.authority.directoryUrl,
    keptAt: deps.now().toISOString(),
    ...stage,
    privateKeyPem,
  };
}

/**
 * Installs a kept certificate (shared/kept-certificates.ts) instead of ordering: the same write
 * as after an order, then the kept entry is removed (a failure to remove is logged; a later run
 * finds the Secret up to date and removes it then).
 * @throws as SecretStore.storeCertificate; the entry stays kept.
 */
export async function installKeptCertificate(
  certificate: DesiredCertificate,
  kept: KeptCertificate & { certificatePem: string },
  deps: Pick<IssueDependencies, 'secrets' | 'now' | 'logger'> & {
    authority: Pick<CertificateAuthority, 'directoryUrl'>;
    removeKept: (namespace: string, secretName: string) => Promise<void>;
  },
): Promise<IssuedCertificate> {
  const leaf = checkChain(kept.certificatePem, certificate.hosts);
  const notAfter = new Date(leaf.validTo);
  await deps.secrets.storeCertificate({
    namespace: certificate.namespace,
    name: certificate.secretName,
    certificatePem: kept.certificatePem,
    privateKeyPem: kept.privateKeyPem,
    annotations: secretAnnotations(certificate, deps, notAfter),
  });
  deps.logger.info('installed a kept certificate instead of ordering', {
    keptAt: kept.keptAt,
    notAfter: notAfter.toISOString(),
  });
  try {
    await deps.removeKept(certificate.namespace, certificate.secretName);
  } catch (error) {
    deps.logger.warn('could not remove the installed kept certificate', {
      error: describeError(error),
    });
  }
  return {
    notBefore: new Date(leaf.validFrom),
    notAfter,
    serialNumber: leaf.serialNumber,
    directoryUrl: deps.authority.directoryUrl,
  };
}

/** The annotations the job writes on a certificate Secret (a placeholder time before issuance). */
function secretAnnotations(
  certificate: DesiredCertificate,
  deps: { authority: Pick<CertificateAuthority, 'directoryUrl'>; now: () => Date },
  notAfter: Date | undefined,
): Record<string, string> {
  const now = deps.now().toISOString();
  return {
    [SECRET_ANNOTATIONS.directoryUrl]: deps.authority.directoryUrl,
    [SECRET_ANNOTATIONS.hosts]: certificate.hosts.join(','),
    [SECRET_ANNOTATIONS.notAfter]: (notAfter ?? deps.now()).toISOString(),
    [SECRET_ANNOTATIONS.issuedAt]: now,
  };
}

/** The leaf of a chain, after checking that it names exactly the wanted hosts. */
function checkChain(chainPem: string, hosts: readonly string[]): X509Certificate {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(chainPem);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(first?.[0] ?? '');
  } catch (error) {
    throw new InvalidChainError('the ACME server returned no parseable certificate', {
      cause: error,
    });
  }
  // The same reader as the decision's (quoted names and all), so what is checked here is what
  // the next run compares.
  const names = readSubjectAltNames(leaf);
  const wanted = [...new Set(hosts)].sort();
  if (names.join(',') !== wanted.join(',')) {
    throw new InvalidChainError(
      `the issued certificate names ${names.join(', ')}, not ${wanted.join(', ')}`,
    );
  }
  return leaf;
}
