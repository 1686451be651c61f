/**
 * Adapter: certificate Secrets. Gathers them with paginated list calls (only type
 * `kubernetes.io/tls`, by field selector), reads single Secrets, and stores issued certificates.
 */
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import { KubeLegoError } from '../../shared/errors.js';
import { MANAGED_BY } from '../../shared/labels.js';
import {
  TLS_CERTIFICATE_KEY,
  TLS_DATA_KEYS,
  TLS_PRIVATE_KEY_KEY,
  TLS_SECRET_TYPE,
} from '../tls-secret.js';
import type { SecretView } from '../model.js';
import { kubeCall, kubeCallUnlessNotFound } from './kube-call.js';
import { listAll, PAGE_SIZE } from './list-all.js';
import { retryOnConflict } from './retry-on-conflict.js';

/** The key under which a Secret is found in a gathered map. */
export function secretKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

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
  constructor(private readonly api: CoreV1Api) {}

  /**
   * Every `kubernetes.io/tls` Secret the job may manage, keyed by {@link secretKey}.
   * @throws KubeApiError when a list call fails.
   */
  async listTlsSecrets(watchNamespace: string): Promise<Map<string, SecretView>> {
    const fieldSelector = `type=${TLS_SECRET_TYPE}`;
    const views = await kubeCall('list TLS Secrets', () =>
      listAll(
        (cont) =>
          watchNamespace
            ? this.api.listNamespacedSecret({
                namespace: watchNamespace,
                fieldSelector,
                limit: PAGE_SIZE,
                _continue: cont,
              })
            : this.api.listSecretForAllNamespaces({
                fieldSelector,
                limit: PAGE_SIZE,
                _continue: cont,
              }),
        // Only what the decisions read: a run over thousands of Secrets keeps no other data.
        (secret) => toSecretView(secret, TLS_DATA_KEYS),
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
      this.api.readNamespacedSecret({ namespace, name }),
    );
    return secret === undefined ? undefined : toSecretView(secret);
  }

  /**
   * Stores a certificate: `tls.crt` and `tls.key` in one write, keeping the Secret's other keys,
   * labels and annotations. Creates a `kubernetes.io/tls` Secret when there is none. Retries once
   * on a conflicting concurrent write, re-reading the Secret first.
   * @throws SecretTypeMismatchError when a Secret of another type exists (it is never replaced).
   * @throws KubeApiError when the API refuses the write.
   */
  async storeCertificate(certificate: CertificateToStore): Promise<void> {
    const { namespace, name } = certificate;
    const tlsData = {
      [TLS_CERTIFICATE_KEY]: Buffer.from(certificate.certificatePem).toString('base64'),
      [TLS_PRIVATE_KEY_KEY]: Buffer.from(certificate.privateKeyPem).toString('base64'),
    };
    // A concurrent write (409) is retried from a fresh read, twice at most.
    await retryOnConflict(
      async () => {
        const existing = await kubeCallUnlessNotFound(`get Secret ${namespace}/${name}`, () =>
          this.api.readNamespacedSecret({ namespace, name }),
        );
        if (!existing) {
          await kubeCall(`create Secret ${namespace}/${name}`, () =>
            this.api.createNamespacedSecret({
              namespace,
              body: {
                metadata: {
                  name,
                  namespace,
                  labels: { ...MANAGED_BY },
                  annotations: certificate.annotations,
                },
                type: TLS_SECRET_TYPE,
                data: tlsData,
              },
            }),
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
        await kubeCall(`update Secret ${namespace}/${name}`, () =>
          this.api.replaceNamespacedSecret({ namespace, name, body: existing }),
        );
      },
      { attempts: 3 },
    );
  }
}

/** Decodes a Secret for the decide step (only `keys` of its data, when given). */
export function toSecretView(secret: V1Secret, keys?: readonly string[]): SecretView {
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
