/**
 * "Does this certificate need to be (re)issued, and why?" — an ordered chain of small named
 * checks in cert-manager's style. Each check reads the gathered facts and `now` and returns
 * nothing or a violation; the first violation wins. A unit test pins the order and the reasons.
 *
 * Each check tolerates what earlier checks reject (it returns `undefined` when its inputs cannot
 * be read), so the checks can also be called one by one.
 */
import { formatDuration } from '../../shared/duration.js';
import { formatKey, keyPolicyDescription, type KeyPolicy } from '../key-type.js';
import { SECRET_ANNOTATIONS, TLS_CERTIFICATE_KEY, TLS_PRIVATE_KEY_KEY } from '../tls-secret.js';
import { coveredNames, type ParsedSecret } from './certificate-facts.js';
import type { NeedReason } from './reasons.js';
import { renewalThresholdMs } from './renewal-threshold.js';
import type { RenewalWindow } from './renewal-window.js';

/** What the checks read. */
export interface CheckInput {
  /** The Secret named by the TLS entries, parsed once; `undefined` when it does not exist. */
  secret: ParsedSecret | undefined;
  /** The wanted hosts, normalised and sorted ({@link DesiredCertificate.hosts}). */
  hosts: readonly string[];
  /** The ACME directory URL the job orders from (LEGO_URL). */
  directoryUrl: string;
  keyPolicy: KeyPolicy;
  /** LEGO_MINIMUM_VALIDITY in milliseconds. */
  minimumValidityMs: number;
  /**
   * An operator asked for a new certificate (a `renew` request, jobs/decide/operator-requests.ts);
   * absent means not.
   */
  renewalRequested?: boolean;
  /**
   * The ACME server's renewal window for the stored certificate and the time drawn in it
   * (RFC 9773, jobs/decide/renewal-window.ts); `undefined` when there is none that can be used,
   * and then the lifetime rule decides.
   */
  renewalWindow?: RenewalWindow;
}

/** Stable reasons why a certificate is needed, in chain order (`NEED_REASONS` in reasons.ts). */
export type CertificateReason = NeedReason;

/** Why a check failed: a stable reason and a sentence the user can act on. */
export interface Violation {
  reason: CertificateReason;
  message: string;
}

/** One check: `undefined` when its condition holds, else the violation. Never throws. */
export type CertificateCheck = (input: CheckInput, now: Date) => Violation | undefined;

/** The outcome of {@link evaluateCertificate}. */
export type CertificateEvaluation =
  { needed: true; reason: CertificateReason; message: string } | { needed: false };

/** The Secret does not exist. */
export const secretDoesNotExist: CertificateCheck = ({ secret }) =>
  secret === undefined
    ? { reason: 'SecretMissing', message: 'The Secret does not exist yet.' }
    : undefined;

/** `tls.crt` or `tls.key` is absent, empty or only whitespace. */
export const certificateDataIsMissing: CertificateCheck = ({ secret }) => {
  if (secret === undefined) return undefined;
  const missing = [
    !secret.hasCertificate ? TLS_CERTIFICATE_KEY : undefined,
    !secret.hasPrivateKey ? TLS_PRIVATE_KEY_KEY : undefined,
  ].filter((key) => key !== undefined);
  if (missing.length === 0) return undefined;
  return {
    reason: 'CertificateDataMissing',
    message: `Secret ${describeSecret(secret)} has no ${missing.join(' and no ')}.`,
  };
};

/** `tls.crt` is not a PEM certificate chain (every certificate in it must parse). */
export const certificateIsUnparseable: CertificateCheck = ({ secret }) => {
  if (!secret?.hasCertificate || secret.chainLength !== undefined) return undefined;
  return {
    reason: 'CertificateUnparseable',
    message: `${TLS_CERTIFICATE_KEY} of Secret ${describeSecret(secret)} is not a PEM certificate chain that can be parsed.`,
  };
};

/** `tls.key` is not an unencrypted PEM private key. */
export const privateKeyIsUnparseable: CertificateCheck = ({ secret }) => {
  if (!secret?.hasPrivateKey || secret.privateKey !== undefined) return undefined;
  return {
    reason: 'PrivateKeyUnparseable',
    message: `${TLS_PRIVATE_KEY_KEY} of Secret ${describeSecret(secret)} is not an unencrypted PEM private key (PKCS#1, PKCS#8 or SEC1).`,
  };
};

/**
 * The private key belongs to a certificate of `tls.crt` other than the first: the chain is not
 * leaf first (RFC 8555 §9.1 and the `kubernetes.io/tls` convention put the end-entity
 * certificate first; servers present the first one). Said apart from a key that belongs to no
 * certificate, because the fix differs: reorder the chain, not replace the key.
 */
export const chainIsNotLeafFirst: CertificateCheck = ({ secret }) => {
  const position = secret?.keyCertificateIndex;
  const length = secret?.chainLength;
  if (secret === undefined || position === undefined || length === undefined) return undefined;
  // The first certificate that is the key's: 0 is the leaf (fine), -1 none (the next check).
  if (position < 1) return undefined;
  return {
    reason: 'ChainNotLeafFirst',
    message: `${TLS_CERTIFICATE_KEY} of Secret ${describeSecret(secret)} is not leaf first: the certificate of ${TLS_PRIVATE_KEY_KEY} is number ${position + 1} of ${length}; the leaf must come first.`,
  };
};

/** The private key is not the key of the leaf certificate: TLS handshakes would fail. */
export const privateKeyDoesNotMatchCertificate: CertificateCheck = ({ secret }) => {
  if (secret?.keyCertificateIndex === undefined || secret.keyCertificateIndex === 0)
    return undefined;
  return {
    reason: 'PrivateKeyMismatch',
    message: `${TLS_PRIVATE_KEY_KEY} of Secret ${describeSecret(secret)} is not the private key of the certificate in ${TLS_CERTIFICATE_KEY}.`,
  };
};

/**
 * The leaf's subjectAltNames — DNS names and IP addresses (RFC 8738), both in the form hosts are
 * normalised to — as a set, differ from the wanted hosts. Extra names count too: a name removed
 * from the Ingress should no longer be in its certificate.
 */
export const certificateDoesNotCoverHosts: CertificateCheck = ({ secret, hosts }) => {
  const facts = secret?.facts;
  if (facts === undefined) return undefined;
  const names = new Set(coveredNames(facts));
  const wanted = new Set(hosts);
  const missing = [...wanted].filter((host) => !names.has(host)).sort();
  const extra = [...names].filter((name) => !wanted.has(name)).sort();
  if (missing.length === 0 && extra.length === 0) return undefined;
  const parts = [
    missing.length > 0 ? `it does not cover ${missing.join(', ')}` : undefined,
    extra.length > 0 ? `it also covers ${extra.join(', ')}, no longer wanted` : undefined,
  ].filter((part) => part !== undefined);
  return {
    reason: 'HostsChanged',
    message: `The certificate's names differ from the wanted hosts: ${parts.join('; ')}.`,
  };
};

/** `now` is at or after the leaf's notAfter. */
export const certificateHasExpired: CertificateCheck = ({ secret }, now) => {
  const dates = secret?.facts;
  if (dates === undefined || now.getTime() < dates.notAfter.getTime()) return undefined;
  return {
    reason: 'Expired',
    message: `The certificate expired at ${dates.notAfter.toISOString()}, ${formatMs(now.getTime() - dates.notAfter.getTime())} ago.`,
  };
};

/**
 * The leaf is self-signed ({@link CertificateFacts.selfSigned}): the placeholder some charts and
 * ingress controllers put into a TLS Secret, often valid for a year, for the right hosts and
 * matching its key. No browser trusts it, so it is replaced at once rather than kept until it
 * is due. A certificate whose issuer is a CA (its issuer name differs) never matches.
 */
export const certificateIsSelfSigned: CertificateCheck = ({ secret }) => {
  if (secret?.facts?.selfSigned !== true) return undefined;
  return {
    reason: 'SelfSigned',
    message: `The certificate in Secret ${describeSecret(secret)} is self-signed (issuer equals subject, signed with its own key): a placeholder no browser trusts; it is replaced by one from the ACME directory.`,
  };
};

/**
 * The ACME server's renewal window (ARI, RFC 9773) has reached the time drawn in it, or has
 * passed altogether (§4.2: a window in the past means renew now). Comes before the lifetime rule
 * ({@link certificateNearsExpiry}), which it replaces while a usable window is known: Let's
 * Encrypt spreads renewals with it, and moves them earlier when it must revoke certificates.
 */
export const renewalWindowReached: CertificateCheck = ({ secret, renewalWindow }, now) => {
  if (secret?.facts === undefined || renewalWindow === undefined) return undefined;
  if (now.getTime() < renewalWindow.renewAt.getTime()) return undefined;
  const explanation = renewalWindow.explanationUrl
    ? ` The server explains why at ${renewalWindow.explanationUrl}.`
    : '';
  const when =
    now.getTime() >= renewalWindow.end.getTime()
      ? `ended at ${renewalWindow.end.toISOString()}, so it is renewed now`
      : `runs from ${renewalWindow.start.toISOString()} to ${renewalWindow.end.toISOString()}, and the renewal time drawn in it, ${renewalWindow.renewAt.toISOString()}, has come`;
  return {
    reason: 'RenewalWindowReached',
    message: `The ACME server's renewal window for this certificate (ARI) ${when}.${explanation}`,
  };
};

/**
 * Less validity remains than the renewal threshold. The threshold is
 * max(LEGO_MINIMUM_VALIDITY, lifetime / 3), except that a minimum at least as long as the whole
 * lifetime is ignored (lifetime / 3 alone): otherwise a short-lived certificate (6 days, against
 * the default 720h) would be due the moment it is issued, every run would order a new one, and
 * Let's Encrypt's limit of 5 duplicate certificates per week would soon block renewals. See
 * {@link renewalThresholdMs}.
 */
export const certificateNearsExpiry: CertificateCheck = (
  { secret, minimumValidityMs, renewalWindow },
  now,
) => {
  const dates = secret?.facts;
  // The lifetime rule is the fallback: a usable ARI window decides instead (renewalWindowReached).
  if (dates === undefined || renewalWindow !== undefined) return undefined;
  const lifetimeMs = dates.notAfter.getTime() - dates.notBefore.getTime();
  const remainingMs = dates.notAfter.getTime() - now.getTime();
  if (lifetimeMs <= 0) {
    return {
      reason: 'RenewalDue',
      message: `The certificate's validity period is empty (notBefore ${dates.notBefore.toISOString()}, notAfter ${dates.notAfter.toISOString()}).`,
    };
  }
  const thresholdMs = renewalThresholdMs(lifetimeMs, minimumValidityMs);
  if (remainingMs >= thresholdMs) return undefined;
  const basis =
    minimumValidityMs >= lifetimeMs
      ? `a third of its ${formatMs(lifetimeMs)} lifetime, because LEGO_MINIMUM_VALIDITY ${formatMs(minimumValidityMs)} is not shorter than the lifetime`
      : `the larger of LEGO_MINIMUM_VALIDITY ${formatMs(minimumValidityMs)} and a third of its ${formatMs(lifetimeMs)} lifetime`;
  return {
    reason: 'RenewalDue',
    message: `The certificate expires at ${dates.notAfter.toISOString()}, in ${formatMs(remainingMs)}; it is renewed when less than ${formatMs(thresholdMs)} remains (${basis}).`,
  };
};

/**
 * The Secret says it was issued through another ACME directory than LEGO_URL (e.g. staging, and
 * LEGO_URL now points at production: a staging certificate is not trusted by browsers). A Secret
 * without the annotation has an unknown origin — e.g. written by kube-lego, or by hand — and is
 * not replaced for that alone.
 */
export const issuedThroughOtherDirectory: CertificateCheck = ({ secret, directoryUrl }) => {
  const issuedBy = secret?.view.annotations[SECRET_ANNOTATIONS.directoryUrl];
  if (issuedBy === undefined || issuedBy === directoryUrl) return undefined;
  return {
    reason: 'DirectoryChanged',
    message: `The certificate was issued through ${issuedBy}, but LEGO_URL is ${directoryUrl}.`,
  };
};

/**
 * The key's type or size differs from LEGO_KEY_TYPE / LEGO_RSA_KEYSIZE: RSA modulus bits for
 * `rsa`, curve P-256 or P-384 for `ecdsa-p256` / `ecdsa-p384`.
 */
export const keyDoesNotMatchPolicy: CertificateCheck = ({ secret, keyPolicy }) => {
  const key = secret?.privateKey;
  if (key === undefined) return undefined;
  const actual = formatKey(key);
  const wanted = formatKey(keyPolicyDescription(keyPolicy));
  if (actual === wanted) return undefined;
  return {
    reason: 'KeyTypeChanged',
    message: `The certificate's key is ${actual}, but LEGO_KEY_TYPE/LEGO_RSA_KEYSIZE ask for ${wanted}.`,
  };
};

/**
 * An operator asked for a new certificate although nothing else calls for one (`kube-lego
 * renew`: a request in the status ConfigMap). Last in the chain: when another check also
 * fails, its reason is the more useful one to report.
 */
export const renewalWasRequested: CertificateCheck = ({ renewalRequested }) =>
  renewalRequested === true
    ? {
        reason: 'RenewalRequested',
        message: 'A renewal was requested (kube-lego renew).',
      }
    : undefined;

/**
 * The chain, in order, each check with the reason it gives. A unit test pins this order and
 * these reasons; change them only on purpose (and NEED_REASONS with them).
 */
export const CERTIFICATE_CHECKS = [
  { name: 'secretDoesNotExist', reason: 'SecretMissing', check: secretDoesNotExist },
  {
    name: 'certificateDataIsMissing',
    reason: 'CertificateDataMissing',
    check: certificateDataIsMissing,
  },
  {
    name: 'certificateIsUnparseable',
    reason: 'CertificateUnparseable',
    check: certificateIsUnparseable,
  },
  {
    name: 'privateKeyIsUnparseable',
    reason: 'PrivateKeyUnparseable',
    check: privateKeyIsUnparseable,
  },
  { name: 'chainIsNotLeafFirst', reason: 'ChainNotLeafFirst', check: chainIsNotLeafFirst },
  {
    name: 'privateKeyDoesNotMatchCertificate',
    reason: 'PrivateKeyMismatch',
    check: privateKeyDoesNotMatchCertificate,
  },
  {
    name: 'certificateDoesNotCoverHosts',
    reason: 'HostsChanged',
    check: certificateDoesNotCoverHosts,
  },
  { name: 'certificateHasExpired', reason: 'Expired', check: certificateHasExpired },
  { name: 'certificateIsSelfSigned', reason: 'SelfSigned', check: certificateIsSelfSigned },
  {
    name: 'renewalWindowReached',
    reason: 'RenewalWindowReached',
    check: renewalWindowReached,
  },
  { name: 'certificateNearsExpiry', reason: 'RenewalDue', check: certificateNearsExpiry },
  {
    name: 'issuedThroughOtherDirectory',
    reason: 'DirectoryChanged',
    check: issuedThroughOtherDirectory,
  },
  { name: 'keyDoesNotMatchPolicy', reason: 'KeyTypeChanged', check: keyDoesNotMatchPolicy },
  { name: 'renewalWasRequested', reason: 'RenewalRequested', check: renewalWasRequested },
] as const satisfies readonly { name: string; reason: NeedReason; check: CertificateCheck }[];

/**
 * Runs {@link CERTIFICATE_CHECKS} in order and returns the first violation as
 * `{ needed: true, reason, message }`, or `{ needed: false }` when the stored certificate is
 * fine. Never throws.
 */
export function evaluateCertificate(input: CheckInput, now: Date): CertificateEvaluation {
  for (const { check } of CERTIFICATE_CHECKS) {
    const violation = check(input, now);
    if (violation !== undefined) return { needed: true, ...violation };
  }
  return { needed: false };
}

function describeSecret(secret: ParsedSecret): string {
  return `${secret.view.namespace}/${secret.view.name}`;
}

/** Durations in messages, to the second, in the settings' Go syntax (e.g. `719h59m59s`). */
function formatMs(ms: number): string {
  return formatDuration(Math.round(ms / 1000) * 1000);
}
