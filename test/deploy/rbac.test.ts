/**
 * Layer: integration. RBAC, proven with real tokens: the kustomize base is applied for real into a fresh namespace
 * (through the overlay docs/operating.md shows), a TokenRequest gives each ServiceAccount a
 * token, and each token is then used as the pods would use it — for access reviews, for direct
 * calls, for the gce routing, and for a full issuance by the job process with the real responder
 * process (each on its own account's token) against Pebble.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1Ingress,
  type V1ResourceAttributes,
} from '@kubernetes/client-node';
import type { DesiredCertificate } from '../../jobs/model.js';
import { createChallengeRouters } from '../../jobs/routing/routers.js';
import { silentLogger } from '../../shared/logger.js';
import { adminKubeConfig, createNamespace, jobKubeHttp, testEnv } from '../env/context.js';
import { assertValidTlsSecret, readSecret } from '../support/certificates.js';
import { annotatedIngress, createResponderEndpoints } from '../support/fixtures.js';
import { jobEnv, runJob } from '../support/job-process.js';
import { startResponderProcess, type ResponderProcess } from '../support/responder-process.js';
import { kubectlApply, renderHelm, renderKustomize, type KubeObject } from './render.js';

const admin = adminKubeConfig();
const core = admin.makeApiClient(CoreV1Api);
const networking = admin.makeApiClient(NetworkingV1Api);

/** The install namespace (LEGO_NAMESPACE), a user's namespace, and the name suffix of this install. */
let lego: string;
let app: string;
let suffix: string;
let files: string;
const tokens: { job?: Account; responder?: Account } = {};

interface Account {
  serviceAccount: string;
  config: KubeConfig;
  /** A kubeconfig file holding the token, for the processes. */
  kubeconfig: string;
}

/** A kubeconfig that authenticates with `token` only, as a pod's mounted token does. */
function tokenKubeconfig(token: string, namespace: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'test',
        cluster: { server: testEnv().apiServerUrl, 'certificate-authority': testEnv().caFile },
      },
    ],
    users: [{ name: 'sa', user: { token } }],
    contexts: [{ name: 'sa', context: { cluster: 'test', user: 'sa', namespace } }],
    'current-context': 'sa',
  };
}

async function account(serviceAccount: string, namespace = lego): Promise<Account> {
  const request = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = request.status?.token;
  assert.ok(token, `a token for ${serviceAccount}`);
  const kubeconfig = join(files, `${serviceAccount}.kubeconfig`);
  writeFileSync(kubeconfig, JSON.stringify(tokenKubeconfig(token, namespace)), { mode: 0o600 });
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  return { serviceAccount, config, kubeconfig };
}

function job(): Account {
  assert.ok(tokens.job);
  return tokens.job;
}

function responder(): Account {
  assert.ok(tokens.responder);
  return tokens.responder;
}

/** What a SelfSubjectAccessReview with `who`'s token answers for `attributes`. */
async function allowed(who: Account, attributes: V1ResourceAttributes): Promise<boolean> {
  const review = await who.config.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
    body: { spec: { resourceAttributes: attributes } },
  });
  return review.status?.allowed === true;
}

/** The HTTP status a call ends with: 200 when it succeeds. */
async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

type Access = [verb: string, group: string, resource: string, namespace: string, name?: string];

function attributes([verb, group, resource, namespace, name]: Access): V1ResourceAttributes {
  const [main, sub] = resource.split('/');
  return { verb, group, resource: main, subresource: sub, namespace, name };
}

function describeAccess([verb, group, resource, namespace, name]: Access): string {
  const where = namespace === '' ? 'cluster-wide' : namespace === 'LEGO' ? 'own ns' : 'user ns';
  return `${verb} ${group ? `${group}/` : ''}${resource}${name ? `/${name}` : ''} (${where})`;
}

/** Access lists use 'LEGO' and 'APP' for the two namespaces, made at run time. */
function resolve(access: Access): Access {
  const namespace = access[3] === 'LEGO' ? lego : access[3] === 'APP' ? app : access[3];
  return [access[0], access[1], access[2], namespace, access[4]];
}

const NET = 'networking.k8s.io';
const DISC = 'discovery.k8s.io';
const COORD = 'coordination.k8s.io';
const RBAC = 'rbac.authorization.k8s.io';
const GW = 'gateway.networking.k8s.io';

/** Everything the job does (docs/operating.md lists why). */
const JOB_MAY: Access[] = [
  ['list', NET, 'ingresses', ''],
  ['list', NET, 'ingresses', 'APP'],
  ['get', '', 'secrets', 'APP', 'web-tls'],
  ['list', '', 'secrets', ''],
  ['create', '', 'secrets', 'APP'],
  ['update', '', 'secrets', 'APP', 'web-tls'],
  ['create', '', 'events', 'APP'],
  ['get', '', 'events', 'APP', 'web.0123456789abcdef'],
  ['patch', '', 'events', 'APP', 'web.0123456789abcdef'],
  // gce, in users' namespaces
  ['get', NET, 'ingresses', 'APP', 'web'],
  ['patch', NET, 'ingresses', 'APP', 'web'],
  ['create', '', 'services', 'APP', 'kube-lego-gce'],
  ['patch', '', 'services', 'APP', 'kube-lego-gce'],
  ['get', '', 'services', 'APP', 'kube-lego-gce'],
  ['delete', '', 'services', 'APP', 'kube-lego-gce'],
  ['list', '', 'services', ''],
  ['create', DISC, 'endpointslices', 'APP', 'kube-lego-gce-ipv4'],
  ['patch', DISC, 'endpointslices', 'APP', 'kube-lego-gce-ipv6'],
  ['get', DISC, 'endpointslices', 'APP', 'kube-lego-gce-ipv4'],
  ['delete', DISC, 'endpointslices', 'APP', 'kube-lego-gce-ipv4'],
  ['delete', DISC, 'endpointslices', 'APP', 'kube-lego-gce-ipv6'],
  // its own namespace
  ['create', '', 'configmaps', 'LEGO'],
  ['get', '', 'configmaps', 'LEGO', 'kube-lego-challenges'],
  ['patch', '', 'configmaps', 'LEGO', 'kube-lego-challenges'],
  ['update', '', 'configmaps', 'LEGO', 'kube-lego-status'],
  ['create', COORD, 'leases', 'LEGO'],
  ['get', COORD, 'leases', 'LEGO', 'kube-lego'],
  ['update', COORD, 'leases', 'LEGO', 'kube-lego'],
  ['get', '', 'secrets', 'LEGO', 'kube-lego-account'],
  ['update', '', 'secrets', 'LEGO', 'kube-lego-account'],
  ['get', '', 'secrets', 'LEGO', 'kube-lego-kept-certificates'],
  ['update', '', 'secrets', 'LEGO', 'kube-lego-kept-certificates'],
  ['create', '', 'services', 'LEGO', 'kube-lego-nginx'],
  ['patch', '', 'services', 'LEGO', 'kube-lego-nginx'],
  ['get', '', 'services', 'LEGO', 'kube-lego-nginx'],
  ['delete', '', 'services', 'LEGO', 'kube-lego-nginx'],
  ['create', NET, 'ingresses', 'LEGO', 'kube-lego-nginx'],
  ['patch', NET, 'ingresses', 'LEGO', 'kube-lego-nginx'],
  ['get', NET, 'ingresses', 'LEGO', 'kube-lego-nginx'],
  ['delete', NET, 'ingresses', 'LEGO', 'kube-lego-nginx'],
  ['list', DISC, 'endpointslices', 'LEGO'],
  // Gateway API: read Gateways; the challenge HTTPRoute by name in its own namespace.
  ['list', GW, 'gateways', ''],
  ['list', GW, 'gateways', 'APP'],
  ['create', GW, 'httproutes', 'LEGO', 'kube-lego-gateway'],
  ['patch', GW, 'httproutes', 'LEGO', 'kube-lego-gateway'],
  ['get', GW, 'httproutes', 'LEGO', 'kube-lego-gateway'],
  ['delete', GW, 'httproutes', 'LEGO', 'kube-lego-gateway'],
];

/** Nearby things the job must not do. */
const JOB_MAY_NOT: Access[] = [
  // Secrets: never delete, patch or watch; no other verbs.
  ['delete', '', 'secrets', 'APP', 'web-tls'],
  ['deletecollection', '', 'secrets', 'APP'],
  ['patch', '', 'secrets', 'APP', 'web-tls'],
  ['watch', '', 'secrets', ''],
  ['delete', '', 'secrets', 'LEGO', 'kube-lego-account'],
  ['delete', '', 'secrets', 'LEGO', 'kube-lego-kept-certificates'],
  // Workloads and anything that runs code.
  ['list', '', 'pods', 'APP'],
  ['get', '', 'pods', 'LEGO'],
  ['create', '', 'pods', 'LEGO'],
  ['create', '', 'pods/exec', 'APP'],
  ['create', 'apps', 'deployments', 'APP'],
  ['patch', 'apps', 'deployments', 'LEGO', 'kube-lego-responder'],
  ['create', 'batch', 'jobs', 'LEGO'],
  ['create', '', 'serviceaccounts/token', 'LEGO', 'kube-lego-job'],
  // RBAC: no way to grant itself more.
  ['create', RBAC, 'clusterrolebindings', ''],
  ['update', RBAC, 'clusterroles', '', 'kube-lego-job'],
  ['create', RBAC, 'roles', 'LEGO'],
  ['create', RBAC, 'rolebindings', 'LEGO'],
  ['bind', RBAC, 'clusterroles', '', 'cluster-admin'],
  ['escalate', RBAC, 'roles', 'LEGO'],
  ['impersonate', '', 'users', '', 'admin'],
  // Only its own objects, by name, in its namespace.
  ['get', '', 'configmaps', 'LEGO', 'kube-lego-settings'],
  ['list', '', 'configmaps', 'LEGO'],
  ['delete', '', 'configmaps', 'LEGO', 'kube-lego-challenges'],
  ['patch', '', 'configmaps', 'APP', 'kube-lego-challenges'],
  ['update', COORD, 'leases', 'LEGO', 'other'],
  ['update', COORD, 'leases', 'APP', 'kube-lego'],
  ['create', '', 'services', 'LEGO', 'kube-lego-responder'],
  ['patch', '', 'services', 'LEGO', 'kube-lego-responder'],
  ['delete', '', 'services', 'LEGO', 'kube-lego-responder'],
  ['get', '', 'services', 'LEGO', 'kube-lego-responder'],
  ['update', NET, 'ingresses', 'LEGO', 'kube-lego-nginx'],
  ['delete', NET, 'ingresses', 'LEGO', 'other'],
  // Gateway API: users' Gateways and routes are read-only or untouched; no ReferenceGrant.
  ['get', GW, 'gateways', 'APP', 'edge'],
  ['patch', GW, 'gateways', 'APP', 'edge'],
  ['watch', GW, 'gateways', ''],
  ['list', GW, 'httproutes', ''],
  ['create', GW, 'httproutes', 'APP', 'web'],
  ['patch', GW, 'httproutes', 'APP', 'web'],
  ['delete', GW, 'httproutes', 'APP', 'web'],
  ['delete', GW, 'httproutes', 'LEGO', 'other'],
  ['update', GW, 'httproutes', 'LEGO', 'kube-lego-gateway'],
  ['deletecollection', GW, 'httproutes', 'LEGO'],
  ['create', GW, 'referencegrants', 'APP'],
  ['create', GW, 'referencegrants', 'LEGO'],
  ['update', GW, 'gatewayclasses', '', 'traefik'],
  // No delete by label selector, anywhere: deletecollection cannot be limited by name.
  ['deletecollection', '', 'services', ''],
  ['deletecollection', '', 'services', 'APP'],
  ['deletecollection', '', 'services', 'LEGO'],
  ['deletecollection', NET, 'ingresses', ''],
  ['deletecollection', NET, 'ingresses', 'APP'],
  ['deletecollection', NET, 'ingresses', 'LEGO'],
  ['deletecollection', DISC, 'endpointslices', ''],
  ['deletecollection', DISC, 'endpointslices', 'APP'],
  ['deletecollection', DISC, 'endpointslices', 'LEGO'],
  ['deletecollection', '', 'configmaps', 'LEGO'],
  // Users' objects beyond the challenge path and the gce backend.
  ['create', '', 'services', 'APP', 'web'],
  ['patch', '', 'services', 'APP', 'web'],
  ['get', '', 'services', 'APP', 'web'],
  ['delete', '', 'services', 'APP', 'web'],
  ['delete', '', 'services', 'APP', 'kube-lego-nginx'],
  ['delete', '', 'services', 'APP', 'kubernetes'],
  ['update', NET, 'ingresses', 'APP', 'web'],
  ['delete', NET, 'ingresses', 'APP', 'web'],
  ['create', NET, 'ingresses', 'APP'],
  ['create', DISC, 'endpointslices', 'APP', 'web-abcde'],
  ['get', DISC, 'endpointslices', 'APP', 'web-abcde'],
  ['delete', DISC, 'endpointslices', 'APP', 'web-abcde'],
  ['delete', DISC, 'endpointslices', 'LEGO', 'kube-lego-nginx-x7k2p'],
  ['update', '', 'events', 'APP', 'x'],
  ['list', '', 'namespaces', ''],
  ['get', '', 'nodes', '', 'node-1'],
];

/** Everything the responder does: list and watch its two ConfigMaps by name. */
const RESPONDER_MAY: Access[] = [
  ['list', '', 'configmaps', 'LEGO', 'kube-lego-challenges'],
  ['watch', '', 'configmaps', 'LEGO', 'kube-lego-challenges'],
  ['list', '', 'configmaps', 'LEGO', 'kube-lego-status'],
  ['watch', '', 'configmaps', 'LEGO', 'kube-lego-status'],
];

const RESPONDER_MAY_NOT: Access[] = [
  ['get', '', 'configmaps', 'LEGO', 'kube-lego-challenges'],
  ['list', '', 'configmaps', 'LEGO'],
  ['get', '', 'configmaps', 'LEGO', 'kube-lego-settings'],
  ['list', '', 'configmaps', 'APP', 'kube-lego-challenges'],
  ['update', '', 'configmaps', 'LEGO', 'kube-lego-challenges'],
  ['patch', '', 'configmaps', 'LEGO', 'kube-lego-challenges'],
  ['create', '', 'configmaps', 'LEGO'],
  ['delete', '', 'configmaps', 'LEGO', 'kube-lego-status'],
  ['get', '', 'secrets', 'LEGO', 'kube-lego-account'],
  ['list', '', 'secrets', 'LEGO'],
  ['list', '', 'secrets', ''],
  ['watch', '', 'secrets', ''],
  ['get', '', 'secrets', 'APP', 'web-tls'],
  ['create', '', 'events', 'LEGO'],
  ['list', NET, 'ingresses', ''],
  ['patch', '', 'services', 'LEGO', 'kube-lego-nginx'],
  ['list', '', 'pods', 'LEGO'],
  ['create', COORD, 'leases', 'LEGO'],
];

before(async () => {
  lego = await createNamespace('deploy-rbac', {
    'pod-security.kubernetes.io/enforce': 'restricted',
  });
  app = await createNamespace('deploy-rbac-app');
  suffix = `-${lego.slice(-6)}`;
  files = mkdtempSync(join(tmpdir(), 'kube-lego-rbac-'));
  const objects: KubeObject[] = renderKustomize({ namespace: lego, nameSuffix: suffix }).filter(
    (o) => o.kind !== 'Namespace',
  );
  const applied = await kubectlApply(objects, ['--server-side', '--field-manager=kube-lego-test']);
  assert.equal(applied.code, 0, applied.stderr);
  tokens.job = await account(`kube-lego-job${suffix}`);
  tokens.responder = await account(`kube-lego-responder${suffix}`);
  await waitForAccess(job(), ['list', NET, 'ingresses', '']);
  await waitForAccess(responder(), resolve(RESPONDER_MAY[0]!));
});

after(() => {
  if (files) rmSync(files, { recursive: true, force: true });
});

describe('the job’s ServiceAccount', () => {
  test('may do everything the job does', async () => {
    const refused: string[] = [];
    for (const access of JOB_MAY) {
      if (!(await allowed(job(), attributes(resolve(access)))))
        refused.push(describeAccess(access));
    }
    assert.deepEqual(refused, []);
  });

  test('may not touch Pods, workloads, RBAC, or objects other than its own', async () => {
    const granted: string[] = [];
    for (const access of JOB_MAY_NOT) {
      if (await allowed(job(), attributes(resolve(access)))) granted.push(describeAccess(access));
    }
    assert.deepEqual(granted, []);
  });

  test('real calls: refused where the review says so', async () => {
    const config = job().config;
    const jobCore = config.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({
      namespace: app,
      body: {
        metadata: { name: 'web-tls' },
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': '', 'tls.key': '' },
      },
    });
    assert.equal(
      await statusOf(() => jobCore.readNamespacedSecret({ namespace: app, name: 'web-tls' })),
      200,
    );
    assert.equal(
      await statusOf(() => jobCore.deleteNamespacedSecret({ namespace: app, name: 'web-tls' })),
      403,
    );
    assert.equal(await statusOf(() => jobCore.listNamespacedPod({ namespace: app })), 403);
    assert.equal(
      await statusOf(() =>
        config.makeApiClient(AppsV1Api).createNamespacedDeployment({
          namespace: app,
          body: {
            metadata: { name: 'x' },
            spec: {
              selector: { matchLabels: { a: 'b' } },
              template: {
                metadata: { labels: { a: 'b' } },
                spec: { containers: [{ name: 'x', image: 'x' }] },
              },
            },
          },
        }),
      ),
      403,
    );
    assert.equal(
      await statusOf(() =>
        config.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
          body: {
            metadata: { name: `escalate${suffix}` },
            roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'cluster-admin' },
            subjects: [{ kind: 'ServiceAccount', name: job().serviceAccount, namespace: lego }],
          },
        }),
      ),
      403,
    );
    // Deletes are by name, and only of its own names: another Service is refused, and so is any
    // delete by label selector (deletecollection), even of what the job itself labels.
    await core.createNamespacedService({
      namespace: app,
      body: { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } },
    });
    assert.equal(
      await statusOf(() => jobCore.deleteNamespacedService({ namespace: app, name: 'web' })),
      403,
    );
    assert.equal(
      await statusOf(() =>
        jobCore.deleteCollectionNamespacedService({
          namespace: app,
          labelSelector: 'app.kubernetes.io/managed-by=kube-lego',
        }),
      ),
      403,
    );
    assert.equal(
      await statusOf(() =>
        jobCore.deleteCollectionNamespacedService({
          namespace: lego,
          labelSelector: 'app.kubernetes.io/managed-by=kube-lego',
        }),
      ),
      403,
    );
    const jobNetworking = config.makeApiClient(NetworkingV1Api);
    assert.equal(
      await statusOf(() =>
        jobNetworking.deleteCollectionNamespacedIngress({
          namespace: lego,
          labelSelector: 'app.kubernetes.io/managed-by=kube-lego',
        }),
      ),
      403,
    );
    assert.equal(
      await statusOf(() =>
        config
          .makeApiClient(DiscoveryV1Api)
          .deleteCollectionNamespacedEndpointSlice({ namespace: app }),
      ),
      403,
    );
    await core.readNamespacedService({ namespace: app, name: 'web' });
    await core.deleteNamespacedService({ namespace: app, name: 'web' });
    // `create` is limited by name: a plain POST has no name to match, and is refused.
    assert.equal(
      await statusOf(() =>
        jobCore.createNamespacedService({
          namespace: app,
          body: { metadata: { name: 'kube-lego-gce' }, spec: { ports: [{ port: 8080 }] } },
        }),
      ),
      403,
    );
  });

  test('server-side apply creates its objects by name, and no other', async () => {
    const jobCore = job().config.makeApiClient(CoreV1Api);
    const apply = (name: string) =>
      jobCore.patchNamespacedService(
        {
          namespace: app,
          name,
          fieldManager: 'kube-lego',
          force: true,
          body: {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name, namespace: app },
            spec: { type: 'NodePort', ports: [{ name: 'http', port: 8080 }] },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    assert.equal(await statusOf(() => apply('kube-lego-gce')), 200);
    assert.equal(await statusOf(() => apply('web')), 403);
    await core.deleteNamespacedService({ namespace: app, name: 'kube-lego-gce' });
  });

  test('routes gce challenges through a user’s Ingress and cleans up, with its token', async () => {
    const user = await createNamespace('deploy-rbac-gce');
    const web: V1Ingress = {
      metadata: { name: 'web' },
      spec: {
        ingressClassName: 'gce',
        rules: [
          {
            host: 'gce.example.com',
            http: {
              paths: [
                {
                  path: '/*',
                  pathType: 'ImplementationSpecific',
                  backend: { service: { name: 'web', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    };
    const created = await networking.createNamespacedIngress({ namespace: user, body: web });
    // No controller manager here: the responder Service's EndpointSlice is written by hand.
    await createResponderEndpoints(lego, [{ address: '192.0.2.10', ready: true }]);
    const certificate: DesiredCertificate = {
      namespace: user,
      secretName: 'web-tls',
      hosts: ['gce.example.com'],
      commonName: 'gce.example.com',
      requesters: [
        { kind: 'Ingress', namespace: user, name: 'web', uid: created.metadata!.uid!, index: 0 },
      ],
      ingressClass: 'gce',
      provider: 'gce',
    };
    const { gce, ingress: nginx } = createChallengeRouters({
      kube: await jobKubeHttp(job().kubeconfig),
      settings: {
        namespace: lego,
        port: 8080,
        serviceSelector: 'kube-lego',
        serviceNameNginx: 'kube-lego-nginx',
        serviceNameGce: 'kube-lego-gce',
        ingressNameNginx: 'kube-lego-nginx',
        httpRouteName: 'kube-lego-gateway',
        watchNamespace: '',
      },
      logger: silentLogger,
    });
    await gce.open(certificate);
    const opened = await networking.readNamespacedIngress({ namespace: user, name: 'web' });
    assert.ok(
      JSON.stringify(opened.spec).includes('/.well-known/acme-challenge/*'),
      'the challenge path is in the Ingress',
    );
    await gce.close(certificate);
    await gce.open(certificate); // and a crash: the next run's cleanup finds it
    await gce.cleanup();
    await nginx.cleanup();
    const closed = await networking.readNamespacedIngress({ namespace: user, name: 'web' });
    assert.equal(JSON.stringify(closed.spec), JSON.stringify(created.spec));
    const services = await core.listNamespacedService({ namespace: user });
    assert.deepEqual(services.items, []);
  });
});

describe('the responder’s ServiceAccount', () => {
  test('may list and watch its two ConfigMaps by name', async () => {
    const refused: string[] = [];
    for (const access of RESPONDER_MAY) {
      if (!(await allowed(responder(), attributes(resolve(access)))))
        refused.push(describeAccess(access));
    }
    assert.deepEqual(refused, []);
  });

  test('may not read any Secret, write anything, or read other ConfigMaps', async () => {
    const granted: string[] = [];
    for (const access of RESPONDER_MAY_NOT) {
      if (await allowed(responder(), attributes(resolve(access))))
        granted.push(describeAccess(access));
    }
    assert.deepEqual(granted, []);
  });

  test('real calls: its ConfigMap by name, and nothing else', async () => {
    await core.createNamespacedConfigMap({
      namespace: lego,
      body: { metadata: { name: 'kube-lego-status' }, data: { probe: 'yes' } },
    });
    const responderCore = responder().config.makeApiClient(CoreV1Api);
    const mine = await responderCore.listNamespacedConfigMap({
      namespace: lego,
      fieldSelector: 'metadata.name=kube-lego-status',
    });
    assert.deepEqual(
      mine.items.map((c) => c.data),
      [{ probe: 'yes' }],
    );
    assert.equal(
      await statusOf(() => responderCore.listNamespacedConfigMap({ namespace: lego })),
      403,
    );
    assert.equal(
      await statusOf(() =>
        responderCore.readNamespacedConfigMap({ namespace: lego, name: 'kube-lego-status' }),
      ),
      403,
    );
    assert.equal(
      await statusOf(() =>
        responderCore.patchNamespacedConfigMap(
          { namespace: lego, name: 'kube-lego-status', body: { data: { probe: 'no' } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
      ),
      403,
    );
    assert.equal(
      await statusOf(() =>
        responderCore.createNamespacedConfigMap({
          namespace: lego,
          body: { metadata: { name: 'kube-lego-challenges' } },
        }),
      ),
      403,
    );
    assert.equal(await statusOf(() => responderCore.listSecretForAllNamespaces({})), 403);
    assert.equal(
      await statusOf(() => responderCore.listNamespacedSecret({ namespace: lego })),
      403,
    );
    assert.equal(
      await statusOf(() => responderCore.readNamespacedSecret({ namespace: app, name: 'web-tls' })),
      403,
    );
    await core.deleteNamespacedConfigMap({ namespace: lego, name: 'kube-lego-status' });
  });
});

/**
 * The responder's log record of a challenge for `host` answered with 200, once it has arrived:
 * the line crosses a pipe and may come after the job has ended.
 */
function servedChallenge(server: ResponderProcess, host: string): Promise<Record<string, unknown>> {
  return server.waitForLog(
    (r) =>
      r.msg === 'request' &&
      String(r.url).startsWith('/.well-known/acme-challenge/') &&
      r.status === 200 &&
      String(r.host).startsWith(host),
  );
}

/**
 * Waits until `who` may `access`: new bindings reach the authorizer's cache within moments (a
 * guard of 60 s, generous for a loaded machine: this waits for a change, not a window).
 */
async function waitForAccess(who: Account, access: Access): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await allowed(who, attributes(access)))) {
    if (Date.now() > deadline) {
      throw new Error(`${describeAccess(access)} was not allowed 60 s after it was bound`);
    }
    await sleep(200);
  }
}

describe('a full issuance, each program on its own account’s token', () => {
  let server: ResponderProcess | undefined;
  let shop: string;

  before(async () => {
    shop = await createNamespace('deploy-rbac-shop');
    await networking.createNamespacedIngress({
      namespace: shop,
      body: annotatedIngress('shop', [
        { hosts: ['rbac.shop.example.com'], secretName: 'shop-tls' },
      ]),
    });
    // Pebble dials this one port for every HTTP-01 validation.
    server = await startResponderProcess({
      namespace: lego,
      port: testEnv().pebble.httpPort,
      kubeconfig: responder().kubeconfig,
    });
  });

  after(async () => {
    await server?.stop();
  });

  test('the job issues a certificate and the responder serves its challenge', async () => {
    const result = await runJob(
      jobEnv(lego, { LEGO_WATCH_NAMESPACE: shop, KUBECONFIG: job().kubeconfig }),
    );
    assert.equal(result.code, 0, `exit ${result.code}; stderr:\n${result.stderr.slice(-4000)}`);
    assert.equal(result.summary?.issued, 1);
    assert.equal(result.summary?.failed, 0);
    await assertValidTlsSecret(await readSecret(shop, 'shop-tls'), ['rbac.shop.example.com']);
    // Its account, Lease and status are where the Role allows.
    await core.readNamespacedSecret({ namespace: lego, name: 'kube-lego-account' });
    await core.readNamespacedConfigMap({ namespace: lego, name: 'kube-lego-status' });
    // The responder, on its own token, saw the token appear and served it to Pebble.
    await servedChallenge(server!, 'rbac.shop.example.com');
  });
});

describe('the Helm chart limited to one namespace (settings.watchNamespace), for real', () => {
  let server: ResponderProcess | undefined;
  let install: string;
  let watched: string;
  let jobAccount: Account;

  before(async () => {
    install = await createNamespace('deploy-helm', {
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
    watched = await createNamespace('deploy-helm-shop');
    const release = `kl${install.slice(-6)}`;
    const objects = renderHelm({
      release,
      namespace: install,
      setString: { 'settings.watchNamespace': watched },
    });
    assert.equal(objects.filter((o) => o.kind === 'ClusterRoleBinding').length, 0);
    const applied = await kubectlApply(objects, [
      '--server-side',
      '--field-manager=kube-lego-test',
    ]);
    assert.equal(applied.code, 0, applied.stderr);
    jobAccount = await account(`${release}-kube-lego-job`, install);
    const responderAccount = await account(`${release}-kube-lego-responder`, install);
    await waitForAccess(jobAccount, ['list', NET, 'ingresses', watched]);
    await waitForAccess(responderAccount, [
      'watch',
      '',
      'configmaps',
      install,
      'kube-lego-challenges',
    ]);
    await networking.createNamespacedIngress({
      namespace: watched,
      body: annotatedIngress('shop', [
        { hosts: ['helm.shop.example.com'], secretName: 'shop-tls' },
      ]),
    });
    server = await startResponderProcess({
      namespace: install,
      port: testEnv().pebble.httpPort,
      kubeconfig: responderAccount.kubeconfig,
    });
  });

  after(async () => {
    await server?.stop();
  });

  test('the job may work in the watched namespace and its own, and nowhere else', async () => {
    const granted: string[] = [];
    for (const access of [
      ['list', NET, 'ingresses', ''],
      ['list', '', 'secrets', ''],
      ['get', '', 'secrets', app, 'web-tls'],
      ['create', '', 'events', app],
      ['patch', NET, 'ingresses', app, 'web'],
      ['create', '', 'services', app, 'kube-lego-gce'],
      ['delete', '', 'services', app, 'kube-lego-gce'],
      ['delete', DISC, 'endpointslices', app, 'kube-lego-gce-ipv4'],
    ] satisfies Access[]) {
      if (await allowed(jobAccount, attributes(access))) granted.push(describeAccess(access));
    }
    assert.deepEqual(granted, []);
  });

  test('a full issuance on the chart’s tokens', async () => {
    const result = await runJob(
      jobEnv(install, { LEGO_WATCH_NAMESPACE: watched, KUBECONFIG: jobAccount.kubeconfig }),
    );
    assert.equal(result.code, 0, `exit ${result.code}; stderr:\n${result.stderr.slice(-4000)}`);
    assert.equal(result.summary?.issued, 1);
    await assertValidTlsSecret(await readSecret(watched, 'shop-tls'), ['helm.shop.example.com']);
    await servedChallenge(server!, 'helm.shop.example.com');
  });
});
