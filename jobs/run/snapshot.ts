/**
 * Gather, collect and decide for a whole run, as three visible steps: what exists (Ingresses, TLS
 * Secrets, the last status), which certificates the Ingresses ask for, and what to do about each.
 * Shared by `run` (which then acts) and `plan` (which prints).
 */
import { renewalDueAt } from '../decide/renewal-threshold.js';
import { decideAction, type CertificateInput, type DecideSettings } from '../decide/action.js';
import { parseSecret } from '../decide/certificate-facts.js';
import { collectCertificates, type CollectSettings } from '../decide/desired-certificates.js';
import type { CertificateDecision } from '../decide/outcome.js';
import type {
  DesiredCertificate,
  GatewayView,
  IngressView,
  InvalidEntry,
  SecretView,
  SkippedIngress,
} from '../model.js';
import { secretKey } from '../kube/secret-store.js';
import { statusKey } from '../../shared/status-entries.js';
import type { RecordedStatus } from '../kube/status-store.js';

/** The ports the gather step reads through. */
export interface GatherPorts {
  listIngresses(): Promise<IngressView[]>;
  /** Annotated or not; `[]` when Gateways are not read (LEGO_SOURCES, or no Gateway API). */
  listGateways?(): Promise<GatewayView[]>;
  listTlsSecrets(): Promise<Map<string, SecretView>>;
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
): Promise<RunPlan> {
  const gathered = await gather(ports);
  const collected = collectCertificates(gathered.ingresses, settings, gathered.gateways);
  const inputs = await gatherInputs(ports, gathered, collected.certificates);
  return {
    decisions: decide(inputs, settings, now),
    invalid: collected.invalid,
    skipped: collected.skipped,
    previousStatus: gathered.status,
    directoryUrl: settings.directoryUrl,
    minimumValidityMs: settings.minimumValidityMs,
  };
}

/**
 * Gather: the three lists, concurrently.
 * @throws KubeApiError when a list fails.
 */
export async function gather(ports: GatherPorts): Promise<Gathered> {
  const [ingresses, gateways, secrets, status] = await Promise.all([
    ports.listIngresses(),
    ports.listGateways?.() ?? [],
    ports.listTlsSecrets(),
    ports.readStatus(),
  ]);
  return { ingresses, gateways, secrets, status };
}

/**
 * Gather, completed for the collected certificates: one {@link CertificateInput} each, its
 * Secret parsed once (a Secret missing from the TLS list is read singly) and its previous status
 * attached by key.
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
    inputs.push({
      certificate,
      secret: secret === undefined ? undefined : parseSecret(secret),
      previous: previousByKey.get(statusKey(certificate.namespace, certificate.secretName)),
    });
  }
  return inputs;
}

/** Decide: {@link decideAction} for each input. Pure; never throws. */
export function decide(
  inputs: readonly CertificateInput[],
  settings: DecideSettings,
  now: Date,
): CertificateDecision[] {
  return inputs.map((input) => ({
    certificate: input.certificate,
    secret: input.secret?.view,
    facts: input.secret?.facts,
    previous: input.previous,
    ...(input.secret?.facts
      ? {
          renewalAt: renewalDueAt(
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
  }));
}
