/**
 * Adapter: certificate Secrets. Gathers them with paginated list calls (only type
 * `kubernetes.io/tls`, by field selector), reads single Secrets, and stores issued certificates.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { KubeLegoError, SecretWriteRefusedError } from '../../shared/errors.js';
import { statusOf } from '../../shared/kube/api-error.js';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import { SECRETS } from '../../shared/kube/kube-resources.js';
import type { Wire } from '../../shared/kube/wire.js';
import { MANAGED_BY } from '../../shared/labels.js';
import {
  readSecretText,
  TLS_CERTIFICATE_KEY,
  TLS_DATA_KEYS,
  TLS_PRIVATE_KEY_KEY,
  TLS_SECRET_TYPE,
} from '../tls-secret.js';
import type { SecretView } from '../model.js';
import { recordDescribes } from '../decide/certificate-facts.js';
import type { SecretFactsRecord } from '../../shared/secret-facts.js';
import { kubeCall, kubeCallUnlessNotFound } from './kube-call.js';
import { retryOnConflict } from './retry-on-conflict.js';

/** The key under which a Secret is found in a gathered map. */
export function secretKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The facts the last status recorded, by the {@link secretKey} of the Secret they describe. */
export type RecordedSecretFacts = ReadonlyMap<string, SecretFactsRecord>;

/** Thrown when a Secret of another type stands where a certificate would go. */
export class SecretTypeMismatchError extends KubeLegoError {
  constructor(
    readonly namespace: string,
    readonly secretName: string,
    readonly actualType: string,
  ) {
    super(
      `Secret ${namespace}/${secretName} has type ${actualType}, not ${TLS_SECRET_TYPE}; it is left untouched (delete it or choose another secretName)`,
    );
  }
}

/** What to store: the full chain, its key, and annotations describing them. */
export interface CertificateToStore {
  namespace: string;
  name: string;
  certificatePem: string;
  privateKeyPem: string;
  annotations: Record<string, string>;
}

export class SecretStore {
  constructor(private readonly kube: KubeHttp) {}

  /**
   * Every `kubernetes.io/tls` Secret the job may manage, keyed by {@link secretKey}. A Secret
   * that `recorded` (the last status's facts by {@link secretKey}, known while the first page
   * is on its way) describes is kept without its PEMs (SecretView `recorded`).
   * @throws KubeApiError when a list call fails.
   */
  async listTlsSecrets(
    watchNamespace: string,
    recorded: Promise<RecordedSecretFacts> = Promise.resolve(new Map()),
  ): Promise<Map<string, SecretView>> {
    const views = await kubeCall('list TLS Secrets', () =>
      this.kube.list<Wire<V1Secret>, SecretView>(
        SECRETS,
        watchNamespace,
        { fieldSelector: `type=${TLS_SECRET_TYPE}` },
        // Only what the decisions read: a run over thousands of Secrets keeps no other data.
        recorded.then((facts) => (secret) => toTlsSecretView(secret, facts)),
      ),
    );
    return new Map(views.map((view) => [secretKey(view.namespace, view.name), view]));
  }

  /**
   * One Secret of any type; `undefined` when it does not exist.
   * @throws KubeApiError on any other failure.
   */
  async get(namespace: string, name: string): Promise<SecretView | undefined> {
    const secret = await kubeCallUnlessNotFound(`get Secret ${namespace}/${name}`, () =>
      this.kube.get<Wire<V1Secret>>(SECRETS, namespace, name),
    );
    return secret === undefined ? undefined : toSecretView(secret);
  }

  /**
   * Stores a certificate: `tls.crt` and `tls.key` in one write, keeping the Secret's other keys,
   * labels and annotations. Creates a `kubernetes.io/tls` Secret when there is none. Retries once
   * on a conflicting concurrent write, re-reading the Secret first.
   * @throws SecretTypeMismatchError when a Secret of another type exists (it is never replaced).
   * @throws SecretWriteRefusedError when the API server answers the write with a refusal.
   * @throws KubeApiError when the API server cannot be reached or does not answer.
   */
  async storeCertificate(certificate: CertificateToStore): Promise<void> {
    await this.write(certificate, false);
  }

  /**
   * Proves, before anything is ordered, that {@link storeCertificate} would be accepted: the
   * same create or update, sent as a server-side dry run (`dryRun=All`), which runs
   * authorization, validation, admission policies, webhooks and quota without persisting
   * anything. The certificate does not exist yet: the dry run carries the Secret's current
   * `tls.crt` (empty for a new Secret) with the new key and annotations.
   * @throws as {@link storeCertificate}.
   */
  async checkCertificateWrite(
    certificate: Omit<CertificateToStore, 'certificatePem'>,
  ): Promise<void> {
    await this.write({ ...certificate, certificatePem: undefined }, true);
  }

  private async write(
    certificate: Omit<CertificateToStore, 'certificatePem'> & {
      certificatePem: string | undefined;
    },
    dryRun: boolean,
  ): Promise<void> {
    const { namespace, name } = certificate;
    const query = dryRun ? { dryRun: 'All' } : undefined;
    const prefix = dryRun ? 'dry-run ' : '';
    try {
      // A concurrent write (409) is retried from a fresh read, twice at most.
      await retryOnConflict(
        async () => {
          const existing = await kubeCallUnlessNotFound(`get Secret ${namespace}/${name}`, () =>
            this.kube.get<Wire<V1Secret>>(SECRETS, namespace, name),
          );
          const certificatePem =
            certificate.certificatePem ??
            Buffer.from(existing?.data?.[TLS_CERTIFICATE_KEY] ?? '', 'base64').toString('utf8');
          const tlsData = {
            [TLS_CERTIFICATE_KEY]: Buffer.from(certificatePem).toString('base64'),
            [TLS_PRIVATE_KEY_KEY]: Buffer.from(certificate.privateKeyPem).toString('base64'),
          };
          if (!existing) {
            await kubeCall(`${prefix}create Secret ${namespace}/${name}`, () =>
              this.kube.create(
                SECRETS,
                namespace,
                {
                  metadata: {
                    name,
                    namespace,
                    labels: { ...MANAGED_BY },
                    annotations: certificate.annotations,
                  },
                  type: TLS_SECRET_TYPE,
                  data: tlsData,
                } satisfies V1Secret,
                query,
              ),
            );
            return;
          }
          const type = existing.type ?? 'Opaque';
          if (type !== TLS_SECRET_TYPE) throw new SecretTypeMismatchError(namespace, name, type);
          existing.data = { ...(existing.data ?? {}), ...tlsData };
          existing.metadata = {
            ...existing.metadata,
            annotations: { ...(existing.metadata?.annotations ?? {}), ...certificate.annotations },
          };
          await kubeCall(`${prefix}update Secret ${namespace}/${name}`, () =>
            this.kube.replace(SECRETS, namespace, name, existing, query),
          );
        },
        { attempts: 3 },
      );
    } catch (error) {
      // An answer is a refusal of this Secret; no answer is the API's failure (the run's).
      if (!(error instanceof SecretTypeMismatchError) && statusOf(error) !== undefined)
        throw new SecretWriteRefusedError(
          namespace,
          name,
          error instanceof Error ? error.message : String(error),
          { cause: error },
        );
      throw error;
    }
  }
}

/**
 * A listed TLS Secret for the decide step: `tls.crt` and `tls.key` decoded, or, when the record
 * `facts` holds for it describes it (jobs/decide/certificate-facts.ts, recordDescribes), that
 * record in their place.
 */
function toTlsSecretView(secret: Wire<V1Secret>, facts: RecordedSecretFacts): SecretView {
  const view = toSecretView(secret, TLS_DATA_KEYS);
  const record = facts.get(secretKey(view.namespace, view.name));
  if (
    record === undefined ||
    !recordDescribes(
      record,
      view.resourceVersion,
      readSecretText(view, TLS_CERTIFICATE_KEY),
      readSecretText(view, TLS_PRIVATE_KEY_KEY),
    )
  )
    return view;
  return { ...view, data: {}, recorded: record };
}

/** Decodes a Secret for the decide step (only `keys` of its data, when given). */
export function toSecretView(secret: Wire<V1Secret>, keys?: readonly string[]): SecretView {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) {
    if (keys && !keys.includes(key)) continue;
    data[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  return {
    namespace: secret.metadata?.namespace ?? '',
    name: secret.metadata?.name ?? '',
    type: secret.type ?? 'Opaque',
    resourceVersion: secret.metadata?.resourceVersion ?? '',
    data,
    annotations: { ...(secret.metadata?.annotations ?? {}) },
    labels: { ...(secret.metadata?.labels ?? {}) },
  };
}
