/**
 * Act: obtains and stores one certificate. The order of steps is what makes it safe:
 *  1. a fresh key and a CSR for exactly the certificate's hosts;
 *  2. challenge routes opened, tokens published, each one self-checked, then validated;
 *  3. tokens and routes withdrawn whatever happened (finally), a cleanup failure logged without
 *     hiding the original error;
 *  4. only a complete chain for every host is written — `tls.crt` and `tls.key` in one update —
 *     so a failed name never leaves a partial certificate behind.
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
import { readDnsNames } from '../decide/certificate-facts.js';
import { SECRET_ANNOTATIONS } from '../tls-secret.js';

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
  secrets: Pick<SecretStore, 'storeCertificate'>;
  /** Resolves when the published challenges are reachable (self-check or fixed wait). */
  waitUntilServed: (challenges: readonly ChallengeEntry[]) => Promise<void>;
  keyPolicy: KeyPolicy;
  logger: Logger;
  now: () => Date;
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
 * @throws AcmeError, SelfCheckError, RoutingError, KubeApiError, SecretTypeMismatchError or
 *   InvalidChainError; nothing is written to the Secret when it throws before the store step.
 */
export async function issueCertificate(
  certificate: DesiredCertificate,
  deps: IssueDependencies,
): Promise<IssuedCertificate> {
  const log = deps.logger;
  const privateKeyPem = await generatePrivateKey(deps.keyPolicy);
  const csr = await deps.createCsr(certificate.hosts, certificate.commonName, privateKeyPem);

  let chainPem: string;
  await deps.routes.open(certificate);
  try {
    chainPem = await deps.authority.obtain(
      { hosts: certificate.hosts, csr },
      {
        present: async (challenges) => {
          await deps.challenges.add(challenges);
          log.debug('challenges published', { tokens: challenges.length });
          await deps.waitUntilServed(challenges);
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

  const leaf = checkChain(chainPem, certificate.hosts);
  const notAfter = new Date(leaf.validTo);
  await deps.secrets.storeCertificate({
    namespace: certificate.namespace,
    name: certificate.secretName,
    certificatePem: chainPem,
    privateKeyPem,
    annotations: {
      [SECRET_ANNOTATIONS.directoryUrl]: deps.authority.directoryUrl,
      [SECRET_ANNOTATIONS.hosts]: certificate.hosts.join(','),
      [SECRET_ANNOTATIONS.notAfter]: notAfter.toISOString(),
      [SECRET_ANNOTATIONS.issuedAt]: deps.now().toISOString(),
    },
  });
  return {
    notBefore: new Date(leaf.validFrom),
    notAfter,
    serialNumber: leaf.serialNumber,
    directoryUrl: deps.authority.directoryUrl,
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
  const names = readDnsNames(leaf);
  const wanted = [...new Set(hosts)].sort();
  if (names.join(',') !== wanted.join(',')) {
    throw new InvalidChainError(
      `the issued certificate names ${names.join(', ')}, not ${wanted.join(', ')}`,
    );
  }
  return leaf;
}
