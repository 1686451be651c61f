/**
 * Gather, collect and decide for a whole run, as three visible steps: what exists (Ingresses, TLS
 * Secrets, the last status), which certificates the Ingresses ask for, and what to do about each.
 * Shared by `run` (which then acts) and `plan` (which prints).
 */
import { renewalDueAt } from '../decide/renewal-threshold.js';
import {
  decideAction,
  renewalWindowOf,
  type CertificateInput,
  type DecideSettings,
} from '../decide/action.js';
import { readSecretFacts, recordSecretFacts } from '../decide/certificate-facts.js';
import { collectCertificates, type CollectSettings } from '../decide/desired-certificates.js';
import { findRequests } from '../decide/operator-requests.js';
import { formatKey, keyPolicyDescription } from '../key-type.js';
import type { CertificateDecision } from '../decide/outcome.js';
import type {
  DesiredCertificate,
  GatewayView,
  IngressView,
  InvalidEntry,
  SecretView,
  SkippedIngress,
} from '../model.js';
import { secretKey, type RecordedSecretFacts } from '../kube/secret-store.js';
import type { SecretFactsRecord } from '../../shared/secret-facts.js';
import { statusKey } from '../../shared/status-entries.js';
import type { RecordedStatus } from '../kube/status-store.js';

/** The ports the gather step reads through. */
export interface GatherPorts {
  listIngresses(): Promise<IngressView[]>;
  /** Annotated or not; `[]` when Gateways are not read (LEGO_SOURCES, or no Gateway API). */
  listGateways?(): Promise<GatewayView[]>;
  /**
   * `recorded`: the last status's Secret facts, once it is read; a Secret they describe comes
   * without its PEMs (SecretView `recorded`).
   */
  listTlsSecrets(recorded?: Promise<RecordedSecretFacts>): Promise<Map<string, SecretView>>;
  /** One Secret of any type; used only for Secrets the TLS list did not contain. */
  getSecret(namespace: string, name: string): Promise<SecretView | undefined>;
  readStatus(): Promise<RecordedStatus>;
}

export type DecisionSettings = CollectSettings & DecideSettings;

/** What the lists return: the whole picture a run starts from. */
export interface Gathered {
  ingresses: IngressView[];
  gateways: GatewayView[];
  /** `kubernetes.io/tls` Secrets by {@link secretKey}. */
  secrets: Map<string, SecretView>;
  status: RecordedStatus;
}

export interface RunPlan {
  decisions: CertificateDecision[];
  invalid: InvalidEntry[];
  skipped: SkippedIngress[];
  previousStatus: RecordedStatus;
  /** LEGO_URL: recorded in the run's status. */
  directoryUrl: string;
  /** LEGO_MINIMUM_VALIDITY: each status entry records when its certificate will be renewed. */
  minimumValidityMs: number;
  /** The key a new certificate gets (LEGO_KEY_TYPE), as `RSA 2048`: recorded in its status. */
  keyType: string;
}

/**
 * Gathers, collects, then decides. Lists are paginated; single reads are made only for Secrets
 * missing from the TLS list (to see whether a Secret of another type is there), which needs the
 * collected certificates first.
 * @throws KubeApiError when a read fails: without the full picture nothing is decided.
 */
export async function gatherAndDecide(
  ports: GatherPorts,
  settings: DecisionSettings,
  now: Date,
  renewalInfo?: (inputs: CertificateInput[]) => Promise<CertificateInput[]>,
): Promise<RunPlan> {
  const gathered = await gather(ports);
  const collected = collectCertificates(gathered.ingresses, settings, gathered.gateways);
  const stored = await gatherInputs(ports, gathered, collected.certificates);
  // ARI (RFC 9773) is gathered too, before deciding: `run` asks what is due; `plan` uses what
  // is stored.
  const inputs = renewalInfo ? await renewalInfo(stored) : stored;
  return {
    decisions: decide(inputs, settings, now),
    invalid: collected.invalid,
    skipped: collected.skipped,
    previousStatus: gathered.status,
    directoryUrl: settings.directoryUrl,
    minimumValidityMs: settings.minimumValidityMs,
    keyType: formatKey(keyPolicyDescription(settings.keyPolicy)),
  };
}

/**
 * Gather: the three lists, concurrently.
 * @throws KubeApiError when a list fails.
 */
export async function gather(ports: GatherPorts): Promise<Gathered> {
  const status = ports.readStatus();
  const [ingresses, gateways, secrets] = await Promise.all([
    ports.listIngresses(),
    ports.listGateways?.() ?? [],
    // The status's records let the Secret list drop the PEMs of unchanged Secrets as each page
    // arrives. Its own failure is the status read's to report: the list then keeps every PEM.
    ports.listTlsSecrets(status.then(recordedSecretFacts, () => new Map())),
    status,
  ]);
  return { ingresses, gateways, secrets, status: await status };
}

/** The Secret facts of a status, by the key of the Secret each describes. */
function recordedSecretFacts(status: RecordedStatus): RecordedSecretFacts {
  const facts = new Map<string, SecretFactsRecord>();
  for (const entry of status.certificates) {
    if (entry.secretFacts)
      facts.set(secretKey(entry.namespace, entry.secretName), entry.secretFacts);
  }
  return facts;
}

/**
 * Gather, completed for the collected certificates: one {@link CertificateInput} each, its
 * Secret parsed once — or not at all when the previous status recorded the facts of this very
 * Secret (jobs/decide/certificate-facts.ts, readSecretFacts) — (a Secret missing from the TLS
 * list is read singly), its previous status attached by key, and the operator's pending
 * requests for it.
 * @throws KubeApiError when a single read fails.
 */
export async function gatherInputs(
  ports: Pick<GatherPorts, 'getSecret'>,
  gathered: Gathered,
  certificates: readonly DesiredCertificate[],
): Promise<CertificateInput[]> {
  const previousByKey = new Map(
    gathered.status.certificates.map((c) => [statusKey(c.namespace, c.secretName), c]),
  );
  const inputs: CertificateInput[] = [];
  for (const certificate of certificates) {
    const secret =
      gathered.secrets.get(secretKey(certificate.namespace, certificate.secretName)) ??
      (await ports.getSecret(certificate.namespace, certificate.secretName));
    const previous = previousByKey.get(statusKey(certificate.namespace, certificate.secretName));
    inputs.push({
      certificate,
      // Parsed at most once, and not at all while the Secret is the one the last run recorded.
      secret: secret === undefined ? undefined : readSecretFacts(secret, previous?.secretFacts),
      previous,
      requests: findRequests(certificate, gathered.status.requests ?? []),
    });
    const last = inputs[inputs.length - 1];
    if (last?.previous?.renewalInfo) last.renewalInfo = last.previous.renewalInfo;
  }
  return inputs;
}

/** Decide: {@link decideAction} for each input. Pure; never throws. */
export function decide(
  inputs: readonly CertificateInput[],
  settings: DecideSettings,
  now: Date,
): CertificateDecision[] {
  return inputs.map((input) => {
    const window = renewalWindowOf(input);
    return {
      certificate: input.certificate,
      secret: input.secret?.view,
      facts: input.secret?.facts,
      previous: input.previous,
      ...(input.requests && input.requests.length > 0 ? { requests: [...input.requests] } : {}),
      // Kept while it is about the stored certificate; a replaced one's record is dropped.
      ...(input.renewalInfo &&
      input.renewalInfo.certificateId === input.secret?.facts?.certificateId
        ? { renewalInfo: input.renewalInfo }
        : {}),
      ...(window ? { renewalWindow: window } : {}),
      ...optionalFacts(input.secret ? recordSecretFacts(input.secret) : undefined),
      ...(input.secret?.facts
        ? {
            // The ARI time when a usable window is known, else the lifetime rule's.
            renewalAt:
              window?.renewAt ??
              renewalDueAt(
                input.secret.facts.notBefore,
                input.secret.facts.notAfter,
                settings.minimumValidityMs,
              ),
          }
        : {}),
      action: decideAction(
        {
          ...input,
          directoryUrl: settings.directoryUrl,
          keyPolicy: settings.keyPolicy,
          minimumValidityMs: settings.minimumValidityMs,
        },
        now,
      ),
    };
  });
}

function optionalFacts(record: ReturnType<typeof recordSecretFacts>): {
  secretFacts?: NonNullable<typeof record>;
} {
  return record === undefined ? {} : { secretFacts: record };
}
