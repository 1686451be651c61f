/**
 * Every stable reason the job gives — in logs, Kubernetes Events, the status ConfigMap and
 * metrics — as exported constants, by what they explain. The types of the decisions are built
 * from these lists, so a reason that is not here does not compile, and test/unit/readme.test.ts
 * checks that README.md names every one. (Most of an order's failure reasons are derived from the
 * error — `Acme<ProblemType>` or our error class — and documented with the failure classes; the
 * fixed ones are {@link CERTIFICATE_FAILURE_REASONS} and {@link RUN_REASONS}.)
 */

/** Why a certificate is needed: the reasons of the check chain, in chain order. */
export const NEED_REASONS = [
  'SecretMissing',
  'CertificateDataMissing',
  'CertificateUnparseable',
  'PrivateKeyUnparseable',
  'ChainNotLeafFirst',
  'PrivateKeyMismatch',
  'HostsChanged',
  'Expired',
  'SelfSigned',
  'RenewalWindowReached',
  'RenewalDue',
  'DirectoryChanged',
  'KeyTypeChanged',
  'RenewalRequested',
] as const;
export type NeedReason = (typeof NEED_REASONS)[number];

/** Why nothing is ordered: the certificate is fine, or a needed one is held back. */
export const HOLD_REASONS = ['UpToDate', 'SecretTypeMismatch', 'BackingOff'] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

/** Why a TLS entry's hosts are rejected. */
export const HOSTS_REJECTION_REASONS = [
  'NoHosts',
  'InvalidHost',
  'WildcardHost',
  'IpAddressHost',
  'TooManyHosts',
] as const;
export type HostsRejectionReason = (typeof HOSTS_REJECTION_REASONS)[number];

/**
 * Why a Gateway's HTTPS listener gets no certificate (besides the host and Secret name reasons):
 * no hostname (the job does not guess hosts from routes, docs/routing.md), no Secret to store
 * the certificate in, a Secret of another namespace or a reference to another kind, or no HTTP
 * listener on port 80 through which the challenge can reach the responder.
 */
export const LISTENER_REJECTION_REASONS = [
  'ListenerWithoutHostname',
  'NoCertificateRef',
  'CertificateRefNotSecret',
  'CertificateRefOtherNamespace',
  'NoChallengeListener',
] as const;
export type ListenerRejectionReason = (typeof LISTENER_REJECTION_REASONS)[number];

/** Why a TLS entry cannot be served (an Event on its Ingress, no certificate). */
export const INVALID_ENTRY_REASONS = [
  'NoSecretName',
  'InvalidSecretName',
  ...HOSTS_REJECTION_REASONS,
  'SecretNameConflict',
  ...LISTENER_REJECTION_REASONS,
] as const;
export type InvalidEntryReason = (typeof INVALID_ENTRY_REASONS)[number];

/** Why an annotated Ingress is left alone. */
export const SKIP_REASONS = [
  'AnnotationNotTrue',
  'UnsupportedIngressClass',
  'UnsupportedIngressProvider',
  'NoTlsEntries',
  'UnsupportedGatewayClass',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** What came of an order, or why none was started although one was decided. */
export const ORDER_REASONS = [
  'Issued',
  'Renewed',
  'IssuanceFailed',
  'LeaseLost',
  'RequestNotCleared',
] as const;
export type OrderReason = (typeof ORDER_REASONS)[number];

/**
 * A certificate's own failures with a fixed reason (jobs/decide/failure-class.ts): the Secret
 * write refused (by the dry run before ordering, or for real after), and an error of no known
 * kind. Charged to that certificate: it backs off, the others go on.
 */
export const CERTIFICATE_FAILURE_REASONS = ['SecretWriteRefused', 'UnexpectedError'] as const;
export type CertificateFailureReason = (typeof CERTIFICATE_FAILURE_REASONS)[number];

/**
 * Why a run stopped early (jobs/decide/failure-class.ts): the ACME server or the Kubernetes API
 * unusable, or a stop signal. Charged to the run, once: the exit code is non-zero and
 * `kube_lego_last_run_success` is 0; no certificate's failure count changes.
 */
export const RUN_REASONS = ['AcmeUnavailable', 'KubeApiUnavailable', 'Stopped'] as const;
export type RunReason = (typeof RUN_REASONS)[number];

/**
 * Why no order was made for a needed certificate: the route preflight found a host whose
 * challenge route does not reach the responder (jobs/issue/route-preflight.ts).
 */
export const PREFLIGHT_REASONS = ['RouteUnreachable'] as const;
export type PreflightReason = (typeof PREFLIGHT_REASONS)[number];

/**
 * Warnings about the settings against what the directory issues (jobs/decide/profile-lifetime.ts):
 * `plan` prints them, a run logs each once. Nothing fails for them.
 */
export const SETTING_WARNING_REASONS = [
  'ProfileNotAdvertised',
  'MinimumValidityNotShorterThanLifetime',
] as const;
export type SettingWarningReason = (typeof SETTING_WARNING_REASONS)[number];

/**
 * Why a needed certificate was left for the next run although nothing is wrong with it: the
 * run's time budget (LEGO_RUN_BUDGET) or its order budget (LEGO_MAX_ORDERS_PER_RUN) is spent
 * (jobs/decide/run-budget.ts). Not a failure: no Event, no back-off.
 */
export const DEFER_REASONS = ['RunBudgetExhausted', 'OrderBudgetExhausted'] as const;
export type DeferReason = (typeof DEFER_REASONS)[number];

/** Every reason above. */
export const ALL_REASONS = [
  ...NEED_REASONS,
  ...HOLD_REASONS,
  ...INVALID_ENTRY_REASONS,
  ...SKIP_REASONS,
  ...ORDER_REASONS,
  ...CERTIFICATE_FAILURE_REASONS,
  ...RUN_REASONS,
  ...PREFLIGHT_REASONS,
  ...SETTING_WARNING_REASONS,
  ...DEFER_REASONS,
] as const;
