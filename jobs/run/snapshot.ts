/**
 * Gather and decide for a whole run: what exists (Ingresses, TLS Secrets, the last status) and
 * what to do about each certificate. Shared by `run` (which then acts) and `plan` (which prints).
 */
import { decideAction, type Action } from '../decide/action.js';
import { readCertificateFacts, type CertificateFacts } from '../decide/certificate-facts.js';
import { collectCertificates, type CollectSettings } from '../decide/desired-certificates.js';
import type {
  DesiredCertificate,
  IngressView,
  InvalidEntry,
  KeyPolicy,
  SecretView,
  SkippedIngress,
} from '../model.js';
import { secretKey } from '../kube/secret-store.js';
import { statusKey, type CertificateStatus } from '../../shared/status-entries.js';
import type { StatusSnapshot } from '../kube/status-store.js';

/** The ports the gather step reads through. */
export interface GatherPorts {
  listIngresses(): Promise<IngressView[]>;
  listTlsSecrets(): Promise<Map<string, SecretView>>;
  /** One Secret of any type; used only for Secrets the TLS list did not contain. */
  getSecret(namespace: string, name: string): Promise<SecretView | undefined>;
  readStatus(): Promise<StatusSnapshot>;
}

export interface DecisionSettings extends CollectSettings {
  directoryUrl: string;
  keyPolicy: KeyPolicy;
  minimumValidityMs: number;
}

/** One desired certificate with everything known about it and the decision taken. */
export interface CertificateDecision {
  certificate: DesiredCertificate;
  secret: SecretView | undefined;
  facts: CertificateFacts | undefined;
  previous: CertificateStatus | undefined;
  action: Action;
}

export interface RunPlan {
  decisions: CertificateDecision[];
  invalid: InvalidEntry[];
  skipped: SkippedIngress[];
  previousStatus: StatusSnapshot;
  /** LEGO_URL: recorded in the run's status. */
  directoryUrl: string;
  /** LEGO_MINIMUM_VALIDITY: each status entry records when its certificate will be renewed. */
  minimumValidityMs: number;
}

/**
 * Reads everything a run needs, then decides. Lists are paginated; single reads are made only
 * for Secrets missing from the TLS list (to see whether a Secret of another type is there).
 * @throws KubeApiError when a list fails: without the full picture nothing is decided.
 */
export async function gatherAndDecide(
  ports: GatherPorts,
  settings: DecisionSettings,
  now: Date,
): Promise<RunPlan> {
  const [ingresses, secrets, previousStatus] = await Promise.all([
    ports.listIngresses(),
    ports.listTlsSecrets(),
    ports.readStatus(),
  ]);
  const collected = collectCertificates(ingresses, settings);
  const previousByKey = new Map(
    previousStatus.certificates.map((c) => [statusKey(c.namespace, c.secretName), c]),
  );
  const decisions: CertificateDecision[] = [];
  for (const certificate of collected.certificates) {
    const secret =
      secrets.get(secretKey(certificate.namespace, certificate.secretName)) ??
      (await ports.getSecret(certificate.namespace, certificate.secretName));
    const previous = previousByKey.get(statusKey(certificate.namespace, certificate.secretName));
    const action = decideAction(
      {
        certificate,
        secret,
        status: previous,
        directoryUrl: settings.directoryUrl,
        keyPolicy: settings.keyPolicy,
        minimumValidityMs: settings.minimumValidityMs,
      },
      now,
    );
    decisions.push({ certificate, secret, facts: readCertificateFacts(secret), previous, action });
  }
  return {
    decisions,
    invalid: collected.invalid,
    skipped: collected.skipped,
    previousStatus,
    directoryUrl: settings.directoryUrl,
    minimumValidityMs: settings.minimumValidityMs,
  };
}
