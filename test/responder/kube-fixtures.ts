/**
 * Kubernetes objects the responder's integration tests need: the responder's own identity (a
 * ServiceAccount whose Role allows only get, list and watch of the two ConfigMaps by name, as in
 * manifests/rbac-responder.yaml) with a kubeconfig for its token, and ConfigMap writes in the
 * job's format.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CoreV1Api,
  RbacAuthorizationV1Api,
  type KubeConfig,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { encodeChallenge, type ChallengeEntry } from '../../shared/challenge-entries.js';

export const CHALLENGE_CM = 'kube-lego-challenges';
export const STATUS_CM = 'kube-lego-status';

export interface ResponderIdentity {
  /** A kubeconfig (JSON) that authenticates as the ServiceAccount with a bound token. */
  kubeconfig: string;
  token: string;
  /** Creates the RoleBinding (when `bound: false` was asked for). */
  bind(): Promise<void>;
}

/**
 * Creates the ServiceAccount `kube-lego-responder` and its Role in `namespace`, and the
 * RoleBinding unless `bound` is false; writes a kubeconfig for a one-hour token into `dir`.
 */
export async function createResponderIdentity(
  admin: KubeConfig,
  options: { namespace: string; dir: string; server: string; caPem: string; bound?: boolean },
): Promise<ResponderIdentity> {
  const { namespace } = options;
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const name = 'kube-lego-responder';
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name },
      rules: [
        {
          apiGroups: [''],
          resources: ['configmaps'],
          resourceNames: [CHALLENGE_CM, STATUS_CM],
          verbs: ['get', 'list', 'watch'],
        },
      ],
    },
  });
  const bind = async () => {
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      },
    });
  };
  if (options.bound !== false) await bind();
  const request = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = request.status?.token ?? '';
  const kubeconfig = join(options.dir, `responder-${namespace}.kubeconfig`);
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'test',
          cluster: {
            server: options.server,
            'certificate-authority-data': Buffer.from(options.caPem).toString('base64'),
          },
        },
      ],
      users: [{ name: 'responder', user: { token } }],
      contexts: [{ name: 'responder', context: { cluster: 'test', user: 'responder', namespace } }],
      'current-context': 'responder',
    }),
    { mode: 0o600 },
  );
  return { kubeconfig, token, bind };
}

/** A challenge as the job writes it (its key authorization is `<token>.<thumbprint>`). */
export function challenge(token: string, domain: string): ChallengeEntry {
  return { token, domain, keyAuthorization: `${token}.thumbprint-${token.slice(0, 8)}` };
}

/** Replaces the challenge ConfigMap's data, creating it when absent. */
export async function writeChallenges(
  core: CoreV1Api,
  namespace: string,
  entries: readonly ChallengeEntry[],
  extra: Record<string, string> = {},
): Promise<void> {
  const data = {
    ...Object.fromEntries(entries.map((e) => [e.token, encodeChallenge(e)])),
    ...extra,
  };
  await writeConfigMap(core, namespace, CHALLENGE_CM, data);
}

/** Creates or replaces a ConfigMap with `data`. */
export async function writeConfigMap(
  core: CoreV1Api,
  namespace: string,
  name: string,
  data: Record<string, string>,
): Promise<void> {
  let current: V1ConfigMap | undefined;
  try {
    current = await core.readNamespacedConfigMap({ name, namespace });
  } catch {
    current = undefined;
  }
  if (current === undefined) {
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data } });
  } else {
    await core.replaceNamespacedConfigMap({ name, namespace, body: { ...current, data } });
  }
}

/** A random token in the base64url alphabet, as an ACME server makes them (43 characters). */
export function randomToken(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64url');
}
