/**
 * Layer: integration. Integration tests of the challenge routers (jobs/routing/) against the real kube-apiserver:
 * every object is checked as the apiserver stores it. There is no controller manager here, so
 * the responder's EndpointSlice is written by hand with documentation addresses (RFC 5737,
 * never dialled), and every test works in fresh namespaces.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import {
  CoreV1Api,
  DiscoveryV1Api,
  NetworkingV1Api,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1HTTPIngressPath,
  type V1Ingress,
  type V1IngressRule,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import type { DesiredCertificate } from '../../jobs/model.js';
import type { ChallengeRouter, RoutingSettings } from '../../jobs/routing/challenge-router.js';
import { createChallengeRouters } from '../../jobs/routing/routers.js';
import {
  addChallengePaths,
  buildChallengePath,
  removeChallengePaths,
} from '../../jobs/routing/gce-challenge-paths.js';
import { RoutingError } from '../../jobs/routing/routing-error.js';
import { KubeApiError } from '../../shared/errors.js';
import { loadKubeConnection } from '../../shared/kube/kube-connection.js';
import { endpointFromConnection } from '../../shared/kube/kube-endpoint.js';
import { KubeHttp } from '../../shared/kube/kube-http.js';
import { MANAGED_BY } from '../../shared/labels.js';
import { silentLogger } from '../../shared/logger.js';
import { adminKubeConfig, createNamespace, testEnv } from '../env/context.js';
import { createResponderEndpoints } from '../support/fixtures.js';

const admin = adminKubeConfig();
const core = admin.makeApiClient(CoreV1Api);
const discovery = admin.makeApiClient(DiscoveryV1Api);
const networking = admin.makeApiClient(NetworkingV1Api);
const rbac = admin.makeApiClient(RbacAuthorizationV1Api);

const MANAGED_BY_SELECTOR = Object.entries(MANAGED_BY)
  .map(([key, value]) => `${key}=${value}`)
  .join(',');

/** The test apiserver as the job reaches it: the admin kubeconfig, read without client-node. */
const endpoint = endpointFromConnection(
  await loadKubeConnection({ env: { KUBECONFIG: testEnv().kubeconfig } }),
);

/** Generous: a request stuck this long is a broken environment, not a slow one. */
const KUBE_TIMEOUT_MS = 60_000;

/** The routers' client as the job makes it, one per run (a time-out ends a client for good). */
function adminKube(): KubeHttp {
  return new KubeHttp(endpoint, { timeoutMs: KUBE_TIMEOUT_MS });
}

/**
 * A routers' client that records each request as it is sent ("METHOD /path", no query), and can
 * act just before one is sent (to write concurrently) or impersonate a user (to test RBAC).
 */
class ObservedKube extends KubeHttp {
  private readonly sentRequests: string[];
  private readonly identity: { user?: string };
  beforeRequest: ((method: string, path: string) => Promise<void>) | undefined;

  constructor() {
    const requests: string[] = [];
    const identity: { user?: string } = {};
    super(
      {
        ...endpoint,
        // Asked before every request: an impersonation set later holds from the next request.
        headers: async () => ({
          ...(await endpoint.headers()),
          ...(identity.user === undefined ? {} : { 'Impersonate-User': identity.user }),
        }),
      },
      {
        timeoutMs: KUBE_TIMEOUT_MS,
        onRequest: (method, path) => {
          requests.push(`${method} ${path}`);
        },
      },
    );
    this.sentRequests = requests;
    this.identity = identity;
  }

  /** Sends every later request as `user`. */
  impersonate(user: string): void {
    this.identity.user = user;
  }

  /** Every method of KubeHttp sends through here: the hook runs before the request is sent. */
  override async send<T>(request: Parameters<KubeHttp['send']>[0]): Promise<T> {
    await this.beforeRequest?.(request.method, request.path);
    return super.send<T>(request);
  }

  /** Requests recorded since the last call. */
  take(): string[] {
    return this.sentRequests.splice(0);
  }
}

function settingsFor(legoNamespace: string, watchNamespace = ''): RoutingSettings {
  return {
    namespace: legoNamespace,
    port: 8080,
    serviceSelector: 'kube-lego',
    serviceNameNginx: 'kube-lego-nginx',
    serviceNameGce: 'kube-lego-gce',
    ingressNameNginx: 'kube-lego-nginx',
    httpRouteName: 'kube-lego-gateway',
    watchNamespace,
  };
}

function routers(
  settings: RoutingSettings,
  kube: KubeHttp = adminKube(),
): Record<'ingress' | 'gce', ChallengeRouter> {
  return createChallengeRouters({ kube, settings, logger: silentLogger });
}

function certificate(
  fields: Pick<DesiredCertificate, 'namespace' | 'hosts'> & Partial<DesiredCertificate>,
): DesiredCertificate {
  return {
    secretName: 'web-tls',
    commonName: fields.hosts[0],
    requesters: [
      { kind: 'Ingress', namespace: fields.namespace, name: 'web', uid: 'uid-web', index: 0 },
    ],
    ingressClass: 'nginx',
    provider: 'ingress',
    ...fields,
  };
}

/** Model instances as plain JSON, so deepEqual compares data, not prototypes. */
function plain(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

async function statusOfRead(read: () => Promise<unknown>): Promise<number | 'present'> {
  try {
    await read();
    return 'present';
  } catch (error) {
    return (error as { code: number }).code;
  }
}

/** Names ("Kind/name") of everything labelled MANAGED_BY in `namespace`. */
async function ours(namespace: string): Promise<string[]> {
  const labelSelector = MANAGED_BY_SELECTOR;
  const [services, ingresses, slices] = await Promise.all([
    core.listNamespacedService({ namespace, labelSelector }),
    networking.listNamespacedIngress({ namespace, labelSelector }),
    discovery.listNamespacedEndpointSlice({ namespace, labelSelector }),
  ]);
  return [
    ...services.items.map((o) => `Service/${o.metadata?.name ?? ''}`),
    ...ingresses.items.map((o) => `Ingress/${o.metadata?.name ?? ''}`),
    ...slices.items.map((o) => `EndpointSlice/${o.metadata?.name ?? ''}`),
  ].sort();
}

function backendPath(path: string, service: string, port: number | string): V1HTTPIngressPath {
  return {
    path,
    pathType: path.endsWith('*') ? 'ImplementationSpecific' : 'Prefix',
    backend: {
      service: {
        name: service,
        port: typeof port === 'number' ? { number: port } : { name: port },
      },
    },
  };
}

const GCE_PATH = backendPath('/.well-known/acme-challenge/*', 'kube-lego-gce', 8080);

describe('nginx router', () => {
  let lego: string;
  beforeEach(async () => {
    lego = await createNamespace('routing-nginx');
  });

  test('open() applies the responder Service and one challenge Ingress with a rule per host, in the certificate class', async () => {
    const cert = certificate({ namespace: 'shop', hosts: ['a.example.com', 'b.example.com'] });
    await routers(settingsFor(lego)).ingress.open(cert);

    const service = await core.readNamespacedService({ namespace: lego, name: 'kube-lego-nginx' });
    assert.deepEqual(service.metadata?.labels, {
      ...MANAGED_BY,
      'kube-lego.io/routing-provider': 'nginx',
    });
    assert.equal(service.spec?.type, 'ClusterIP');
    assert.deepEqual(service.spec?.selector, { app: 'kube-lego' });
    assert.deepEqual(plain(service.spec?.ports), [
      { name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' },
    ]);

    const ingress = await networking.readNamespacedIngress({
      namespace: lego,
      name: 'kube-lego-nginx',
    });
    assert.deepEqual(ingress.metadata?.labels, {
      ...MANAGED_BY,
      'kube-lego.io/routing-provider': 'nginx',
    });
    assert.deepEqual(ingress.metadata?.annotations, {
      'kubernetes.io/ingress.class': 'nginx',
      'nginx.ingress.kubernetes.io/ssl-redirect': 'false',
      'traefik.ingress.kubernetes.io/router.priority': '2147482647',
    });
    const challenge = backendPath('/.well-known/acme-challenge/', 'kube-lego-nginx', 8080);
    assert.deepEqual(plain(ingress.spec), {
      ingressClassName: 'nginx',
      rules: [
        { host: 'a.example.com', http: { paths: [challenge] } },
        { host: 'b.example.com', http: { paths: [challenge] } },
      ],
    });
  });

  test('open() again changes nothing; open() for another certificate replaces the hosts and the class', async () => {
    const first = certificate({ namespace: 'shop', hosts: ['a.example.com'] });
    await routers(settingsFor(lego)).ingress.open(first);
    const read = async () => ({
      service: await core.readNamespacedService({ namespace: lego, name: 'kube-lego-nginx' }),
      ingress: await networking.readNamespacedIngress({
        namespace: lego,
        name: 'kube-lego-nginx',
      }),
    });
    const before = await read();

    // A new router (a new run) applies the Service again too, not only the Ingress.
    const again = routers(settingsFor(lego)).ingress;
    await again.open(first);
    const after = await read();
    assert.equal(after.service.metadata?.resourceVersion, before.service.metadata?.resourceVersion);
    assert.equal(after.ingress.metadata?.resourceVersion, before.ingress.metadata?.resourceVersion);

    const second = certificate({
      namespace: 'blog',
      secretName: 'blog-tls',
      hosts: ['c.example.org', 'd.example.org'],
      ingressClass: 'nginx-internal',
    });
    await again.open(second);
    const replaced = await networking.readNamespacedIngress({
      namespace: lego,
      name: 'kube-lego-nginx',
    });
    assert.equal(replaced.spec?.ingressClassName, 'nginx-internal');
    assert.equal(replaced.metadata?.annotations?.['kubernetes.io/ingress.class'], 'nginx-internal');
    assert.deepEqual(
      replaced.spec?.rules?.map((rule) => rule.host),
      ['c.example.org', 'd.example.org'],
    );
  });

  test('close() deletes the challenge Ingress, cleanup() the Service: nothing labelled ours remains, and both can be repeated', async () => {
    const cert = certificate({ namespace: 'shop', hosts: ['a.example.com'] });
    const router = routers(settingsFor(lego)).ingress;
    await router.open(cert);
    assert.deepEqual(await ours(lego), ['Ingress/kube-lego-nginx', 'Service/kube-lego-nginx']);

    await router.close(cert);
    assert.equal(
      await statusOfRead(() =>
        networking.readNamespacedIngress({ namespace: lego, name: 'kube-lego-nginx' }),
      ),
      404,
    );
    await router.close(cert);
    await router.cleanup();
    assert.deepEqual(await ours(lego), []);
    await routers(settingsFor(lego)).ingress.cleanup();
    assert.deepEqual(await ours(lego), []);
  });

  test("cleanup() deletes a crashed run's leftovers by name, only when labelled ours; other names and unlabelled objects stay", async () => {
    const labels = { ...MANAGED_BY, 'kube-lego.io/routing-provider': 'nginx' };
    const rule = (service: string) => ({
      host: 'old.example.com',
      http: {
        paths: [
          {
            path: '/',
            pathType: 'Prefix',
            backend: { service: { name: service, port: { number: 80 } } },
          },
        ],
      },
    });
    const ingress = (name: string, withLabels: boolean) =>
      networking.createNamespacedIngress({
        namespace: lego,
        body: {
          metadata: { name, ...(withLabels ? { labels } : {}) },
          spec: { rules: [rule('x')] },
        },
      });
    const service = (name: string, withLabels: boolean) =>
      core.createNamespacedService({
        namespace: lego,
        body: {
          metadata: { name, ...(withLabels ? { labels } : {}) },
          spec: { ports: [{ port: 80 }] },
        },
      });
    // Left by a crashed run, under today's names and under an earlier LEGO_INGRESS_NAME_NGINX /
    // LEGO_SERVICE_NAME_NGINX; and a Service that is not ours.
    await ingress('kube-lego-nginx', true);
    await service('kube-lego-nginx', true);
    await ingress('old-challenges', true);
    await service('old-responder', true);
    await service('web', false);

    const observed = new ObservedKube();
    await routers(settingsFor(lego), observed).ingress.cleanup();
    const ingressPath = `/apis/networking.k8s.io/v1/namespaces/${lego}/ingresses/kube-lego-nginx`;
    const servicePath = `/api/v1/namespaces/${lego}/services/kube-lego-nginx`;
    assert.deepEqual(observed.take(), [
      `GET ${ingressPath}`,
      `DELETE ${ingressPath}`,
      `GET ${servicePath}`,
      `DELETE ${servicePath}`,
    ]);
    // RBAC allows deleting today's names only: the others are left for the operator.
    assert.deepEqual(await ours(lego), ['Ingress/old-challenges', 'Service/old-responder']);
    const services = await core.listNamespacedService({ namespace: lego });
    assert.deepEqual(services.items.map((s) => s.metadata?.name).sort(), ['old-responder', 'web']);

    // Not ours, under the name we use now (e.g. made by the original kube-lego): left alone.
    await ingress('kube-lego-nginx', false);
    await service('kube-lego-nginx', false);
    await routers(settingsFor(lego), observed).ingress.cleanup();
    assert.deepEqual(observed.take(), [`GET ${ingressPath}`, `GET ${servicePath}`]);
    const left = await networking.listNamespacedIngress({ namespace: lego });
    assert.deepEqual(left.items.map((i) => i.metadata?.name).sort(), [
      'kube-lego-nginx',
      'old-challenges',
    ]);
    assert.equal(
      await statusOfRead(() =>
        core.readNamespacedService({ namespace: lego, name: 'kube-lego-nginx' }),
      ),
      'present',
    );
  });

  test('a delete carries preconditions: an object replaced or stripped of our labels meanwhile is read again and left alone', async () => {
    const observed = new ObservedKube();
    const { ingress: nginx } = routers(settingsFor(lego), observed);
    const cert = certificate({ namespace: 'shop', hosts: ['a.example.com'] });
    const ingressPath = `/apis/networking.k8s.io/v1/namespaces/${lego}/ingresses/kube-lego-nginx`;
    const servicePath = `/api/v1/namespaces/${lego}/services/kube-lego-nginx`;
    await nginx.open(cert);
    observed.take();

    // Someone replaces our Ingress with one of their own under the same name: the DELETE, with
    // the uid this run applied, is refused (409), and the fresh read shows it is not ours.
    await networking.deleteNamespacedIngress({ namespace: lego, name: 'kube-lego-nginx' });
    await networking.createNamespacedIngress({
      namespace: lego,
      body: {
        metadata: { name: 'kube-lego-nginx' },
        spec: { defaultBackend: { service: { name: 'theirs', port: { number: 80 } } } },
      },
    });
    await nginx.close(cert);
    assert.deepEqual(observed.take(), [`DELETE ${ingressPath}`, `GET ${ingressPath}`]);
    assert.equal(
      await statusOfRead(() =>
        networking.readNamespacedIngress({ namespace: lego, name: 'kube-lego-nginx' }),
      ),
      'present',
    );

    // A labelled Service this run did not write: read (labels seen), and just before the DELETE
    // someone removes our labels. The DELETE carries the read resourceVersion: refused (409),
    // read again, left alone.
    await networking.deleteNamespacedIngress({ namespace: lego, name: 'kube-lego-nginx' });
    let stripped = false;
    observed.beforeRequest = async (method, path) => {
      if (method !== 'DELETE' || path !== servicePath || stripped) return;
      stripped = true;
      await core.patchNamespacedService(
        {
          namespace: lego,
          name: 'kube-lego-nginx',
          body: { metadata: { labels: { 'app.kubernetes.io/managed-by': null } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    };
    await routers(settingsFor(lego), observed).ingress.cleanup();
    assert.deepEqual(observed.take(), [
      `GET ${ingressPath}`,
      `GET ${servicePath}`,
      `DELETE ${servicePath}`,
      `GET ${servicePath}`,
    ]);
    const service = await core.readNamespacedService({ namespace: lego, name: 'kube-lego-nginx' });
    assert.deepEqual(service.metadata?.labels, { 'kube-lego.io/routing-provider': 'nginx' });
  });

  test('requests per call: open 2 then 1, close 1, cleanup 1, and the other router’s cleanup does not delete the Service again', async () => {
    const observed = new ObservedKube();
    const { ingress: nginx, gce } = routers(settingsFor(lego, lego), observed);
    const cert = certificate({ namespace: 'shop', hosts: ['a.example.com'] });
    const base = `/api/v1/namespaces/${lego}`;
    const ingresses = `/apis/networking.k8s.io/v1/namespaces/${lego}/ingresses`;

    await nginx.open(cert);
    assert.deepEqual(observed.take(), [
      `PATCH ${base}/services/kube-lego-nginx`,
      `PATCH ${ingresses}/kube-lego-nginx`,
    ]);
    await nginx.open(certificate({ namespace: 'shop', hosts: ['b.example.com'] }));
    assert.deepEqual(observed.take(), [`PATCH ${ingresses}/kube-lego-nginx`]);
    await nginx.close(cert);
    assert.deepEqual(observed.take(), [`DELETE ${ingresses}/kube-lego-nginx`]);
    await nginx.close(cert);
    assert.deepEqual(observed.take(), [], 'already deleted by this run');
    // The Ingress is known to be gone; the Service is deleted with the uid its apply returned.
    await nginx.cleanup();
    assert.deepEqual(observed.take(), [`DELETE ${base}/services/kube-lego-nginx`]);
    await gce.cleanup();
    assert.deepEqual(observed.take(), [`GET ${base}/services`]);
    // A run that wrote nothing reads each name once (404: nothing to delete).
    await routers(settingsFor(lego, lego), observed).ingress.cleanup();
    assert.deepEqual(observed.take(), [
      `GET ${ingresses}/kube-lego-nginx`,
      `GET ${base}/services/kube-lego-nginx`,
    ]);
  });
});

describe('gce router', () => {
  let lego: string;
  let user: string;
  let settings: RoutingSettings;

  /** The user's Ingress before any routing: a host with a rule, one without, other fields. */
  function userIngress(): V1Ingress {
    return {
      metadata: {
        name: 'web',
        labels: { app: 'web' },
        annotations: {
          'kubernetes.io/tls-acme': 'true',
          'kubernetes.io/ingress.class': 'gce',
          'example.com/note': 'keep me',
        },
      },
      spec: {
        defaultBackend: { service: { name: 'web', port: { number: 80 } } },
        tls: [{ hosts: ['a.example.com', 'b.example.com'], secretName: 'web-tls' }],
        rules: [
          {
            host: 'a.example.com',
            http: {
              paths: [backendPath('/*', 'web', 80), backendPath('/api', 'api', 'http')],
            },
          },
          {
            host: 'c.example.com',
            http: { paths: [backendPath('/*', 'other', 8000)] },
          },
        ],
      },
    };
  }

  const gceCert = () =>
    certificate({
      namespace: user,
      hosts: ['a.example.com', 'b.example.com'],
      ingressClass: 'gce',
      provider: 'gce',
    });

  const createResponderSlice = (endpoints: { address: string; ready?: boolean }[]) =>
    createResponderEndpoints(lego, endpoints);

  const readUserIngress = () => networking.readNamespacedIngress({ namespace: user, name: 'web' });

  beforeEach(async () => {
    lego = await createNamespace('routing-lego');
    user = await createNamespace('routing-user');
    settings = settingsFor(lego, user);
    await networking.createNamespacedIngress({ namespace: user, body: userIngress() });
  });

  test("open() adds the challenge path for each host to the user's Ingress, in a new rule for a host without one", async () => {
    await createResponderSlice([{ address: '192.0.2.10', ready: true }]);
    const before = await readUserIngress();
    await routers(settings).gce.open(gceCert());

    const after = await readUserIngress();
    const beforeRules = plain(before.spec?.rules) as V1IngressRule[];
    assert.deepEqual(plain(after.spec?.rules), [
      {
        host: 'a.example.com',
        http: { paths: [...(beforeRules[0]?.http?.paths ?? []), GCE_PATH] },
      },
      beforeRules[1],
      { host: 'b.example.com', http: { paths: [GCE_PATH] } },
    ]);
    assert.deepEqual(plain(after.spec?.tls), plain(before.spec?.tls));
    assert.deepEqual(plain(after.spec?.defaultBackend), plain(before.spec?.defaultBackend));
    assert.deepEqual(after.metadata?.annotations, before.metadata?.annotations);
    assert.deepEqual(after.metadata?.labels, before.metadata?.labels);
  });

  test('open() applies a selectorless NodePort Service and an EndpointSlice holding only the ready responder addresses', async () => {
    await createResponderSlice([
      { address: '192.0.2.12' },
      { address: '192.0.2.10', ready: true },
      { address: '192.0.2.11', ready: false },
    ]);
    await routers(settings).gce.open(gceCert());

    const labels = { ...MANAGED_BY, 'kube-lego.io/routing-provider': 'gce' };
    const service = await core.readNamespacedService({ namespace: user, name: 'kube-lego-gce' });
    assert.deepEqual(service.metadata?.labels, labels);
    assert.equal(service.spec?.type, 'NodePort');
    assert.equal(service.spec?.selector, undefined);
    const [port, ...more] = service.spec?.ports ?? [];
    assert.equal(more.length, 0);
    assert.equal(typeof port?.nodePort, 'number');
    assert.deepEqual(plain({ ...port, nodePort: undefined }), {
      name: 'http',
      port: 8080,
      targetPort: 8080,
      protocol: 'TCP',
    });

    const slices = await discovery.listNamespacedEndpointSlice({
      namespace: user,
      labelSelector: 'kubernetes.io/service-name=kube-lego-gce',
    });
    assert.equal(slices.items.length, 1);
    const slice = slices.items[0]!;
    assert.equal(slice.metadata?.name, 'kube-lego-gce-ipv4');
    assert.deepEqual(slice.metadata?.labels, {
      ...labels,
      'kubernetes.io/service-name': 'kube-lego-gce',
      'endpointslice.kubernetes.io/managed-by': 'kube-lego',
    });
    assert.equal(slice.addressType, 'IPv4');
    assert.deepEqual(plain(slice.endpoints), [
      { addresses: ['192.0.2.10'], conditions: { ready: true } },
      { addresses: ['192.0.2.12'], conditions: { ready: true } },
    ]);
    assert.deepEqual(plain(slice.ports), [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  });

  test("open() again changes nothing; close() restores the user's Ingress exactly and deletes the Service and EndpointSlice", async () => {
    await createResponderSlice([{ address: '192.0.2.10', ready: true }]);
    const before = await readUserIngress();
    const router = routers(settings).gce;
    await router.open(gceCert());
    const versions = async () => [
      (await readUserIngress()).metadata?.resourceVersion,
      (await core.readNamespacedService({ namespace: user, name: 'kube-lego-gce' })).metadata
        ?.resourceVersion,
      (
        await discovery.readNamespacedEndpointSlice({
          namespace: user,
          name: 'kube-lego-gce-ipv4',
        })
      ).metadata?.resourceVersion,
    ];
    const opened = await versions();
    await router.open(gceCert());
    await routers(settings).gce.open(gceCert());
    assert.deepEqual(await versions(), opened);

    await router.close(gceCert());
    const after = await readUserIngress();
    assert.deepEqual(plain(after.spec), plain(before.spec));
    assert.deepEqual(after.metadata?.annotations, before.metadata?.annotations);
    assert.deepEqual(after.metadata?.labels, before.metadata?.labels);
    assert.deepEqual(await ours(user), []);
    await router.close(gceCert());
    assert.deepEqual(await ours(user), []);
  });

  test('close() removes exactly our paths: what the user changed meanwhile stays', async () => {
    await createResponderSlice([{ address: '192.0.2.10', ready: true }]);
    const router = routers(settings).gce;
    await router.open(gceCert());
    // While the order runs, the user adds a path to the host rule we created, and an annotation.
    const opened = await readUserIngress();
    const rules = opened.spec!.rules!;
    rules[2]!.http!.paths.push(backendPath('/shop', 'shop', 80));
    opened.metadata!.annotations!['example.com/added'] = 'later';
    await networking.replaceNamespacedIngress({ namespace: user, name: 'web', body: opened });

    await router.close(gceCert());
    const after = await readUserIngress();
    const expected = plain(userIngress().spec) as { rules: object[] };
    expected.rules.push({
      host: 'b.example.com',
      http: { paths: [backendPath('/shop', 'shop', 80)] },
    });
    assert.deepEqual(plain(after.spec), expected);
    assert.equal(after.metadata?.annotations?.['example.com/added'], 'later');
  });

  test("a change to the user's Ingress between our read and our write (409 Conflict) is retried from a fresh read", async () => {
    await createResponderSlice([{ address: '192.0.2.10', ready: true }]);
    const observed = new ObservedKube();
    const ingressPath = `/apis/networking.k8s.io/v1/namespaces/${user}/ingresses/web`;
    let interfere = true;
    let writes = 0;
    observed.beforeRequest = async (method, path) => {
      if (method !== 'PATCH' || path !== ingressPath || !interfere) return;
      interfere = false;
      writes++;
      await networking.patchNamespacedIngress(
        {
          namespace: user,
          name: 'web',
          body: { metadata: { annotations: { 'example.com/concurrent': `write ${writes}` } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    };
    const router = routers(settings, observed).gce;

    await router.open(gceCert());
    const ingressRequests = () =>
      observed.take().filter((request) => request.endsWith(ingressPath));
    assert.deepEqual(ingressRequests(), [
      `GET ${ingressPath}`,
      `PATCH ${ingressPath}`,
      `GET ${ingressPath}`,
      `PATCH ${ingressPath}`,
    ]);
    const opened = await readUserIngress();
    assert.equal(opened.metadata?.annotations?.['example.com/concurrent'], 'write 1');
    assert.equal(opened.spec?.rules?.length, 3);

    interfere = true;
    await router.close(gceCert());
    assert.deepEqual(ingressRequests(), [
      `GET ${ingressPath}`,
      `PATCH ${ingressPath}`,
      `GET ${ingressPath}`,
      `PATCH ${ingressPath}`,
    ]);
    const closed = await readUserIngress();
    assert.deepEqual(plain(closed.spec), plain(userIngress().spec));
    assert.equal(closed.metadata?.annotations?.['example.com/concurrent'], 'write 2');
  });

  test('requests per call: open 6 then 5, close 5 then 4, cleanup 2 (one list when nothing is left over)', async () => {
    await createResponderSlice([{ address: '192.0.2.10', ready: true }]);
    const observed = new ObservedKube();
    const { gce } = routers(settings, observed);
    const legoCore = `/api/v1/namespaces/${lego}`;
    const userCore = `/api/v1/namespaces/${user}`;
    const ingress = `/apis/networking.k8s.io/v1/namespaces/${user}/ingresses/web`;
    const userSlices = `/apis/discovery.k8s.io/v1/namespaces/${user}/endpointslices`;
    const opening = [
      `GET /apis/discovery.k8s.io/v1/namespaces/${lego}/endpointslices`,
      `PATCH ${userCore}/services/kube-lego-gce`,
      `PATCH ${userSlices}/kube-lego-gce-ipv4`,
      `GET ${ingress}`,
      `PATCH ${ingress}`,
    ];

    await gce.open(gceCert());
    assert.deepEqual(observed.take(), [`PATCH ${legoCore}/services/kube-lego-nginx`, ...opening]);
    // What open() applied is deleted by name with the uid its apply returned; the IPv6 slice,
    // not applied by this run, is read once (404) and then known to be absent.
    await gce.close(gceCert());
    assert.deepEqual(observed.take(), [
      `GET ${ingress}`,
      `PATCH ${ingress}`,
      `DELETE ${userSlices}/kube-lego-gce-ipv4`,
      `GET ${userSlices}/kube-lego-gce-ipv6`,
      `DELETE ${userCore}/services/kube-lego-gce`,
    ]);
    await gce.open(gceCert());
    assert.deepEqual(observed.take(), opening);
    await gce.close(gceCert());
    assert.deepEqual(observed.take(), [
      `GET ${ingress}`,
      `PATCH ${ingress}`,
      `DELETE ${userSlices}/kube-lego-gce-ipv4`,
      `DELETE ${userCore}/services/kube-lego-gce`,
    ]);
    await gce.cleanup();
    assert.deepEqual(observed.take(), [
      `GET ${userCore}/services`,
      `DELETE ${legoCore}/services/kube-lego-nginx`,
    ]);
  });

  test("requests of cleanup() after a crash: one list, then per namespace the Ingresses' list and patch, and the deletes by name", async () => {
    await createResponderSlice([{ address: '192.0.2.10', ready: true }]);
    await routers(settings).gce.open(gceCert()); // and the run crashes: no close()
    const observed = new ObservedKube();
    const userCore = `/api/v1/namespaces/${user}`;
    const userSlices = `/apis/discovery.k8s.io/v1/namespaces/${user}/endpointslices`;
    const userIngresses = `/apis/networking.k8s.io/v1/namespaces/${user}/ingresses`;
    const responderService = `/api/v1/namespaces/${lego}/services/kube-lego-nginx`;

    await routers(settings, observed).gce.cleanup();
    assert.deepEqual(observed.take(), [
      `GET ${userCore}/services`,
      `GET ${userIngresses}`,
      `PATCH ${userIngresses}/web`,
      `GET ${userSlices}/kube-lego-gce-ipv4`,
      `DELETE ${userSlices}/kube-lego-gce-ipv4`,
      `GET ${userSlices}/kube-lego-gce-ipv6`,
      // The Service is deleted with the uid and resourceVersion of the listed copy.
      `DELETE ${userCore}/services/kube-lego-gce`,
      `GET ${responderService}`,
      `DELETE ${responderService}`,
    ]);
    assert.deepEqual(await ours(user), []);
    assert.deepEqual(await ours(lego), []);
    assert.deepEqual(plain((await readUserIngress()).spec), plain(userIngress().spec));
  });

  test('cleanup() removes the paths to a gce Service of ours under an earlier name, and leaves that Service (it may delete today’s names only)', async () => {
    await createResponderSlice([{ address: '192.0.2.10', ready: true }]);
    const before = await readUserIngress();
    const earlier = { ...settings, serviceNameGce: 'old-gce' };
    await routers(earlier).gce.open(gceCert()); // a crash, then LEGO_SERVICE_NAME_GCE changed

    await routers(settings).gce.cleanup();
    assert.deepEqual(plain((await readUserIngress()).spec), plain(before.spec));
    assert.deepEqual(await ours(user), ['EndpointSlice/old-gce-ipv4', 'Service/old-gce']);
    assert.deepEqual(await ours(lego), []);
    // As the operator would (and so that no later cluster-wide cleanup finds it):
    await discovery.deleteNamespacedEndpointSlice({ namespace: user, name: 'old-gce-ipv4' });
    await core.deleteNamespacedService({ namespace: user, name: 'old-gce' });
  });

  test('with no ready responder pod, open() throws a RoutingError and writes nothing', async () => {
    await createResponderSlice([{ address: '192.0.2.11', ready: false }]);
    const before = await readUserIngress();
    const router = routers(settings).gce;

    await assert.rejects(router.open(gceCert()), (error: unknown) => {
      assert.ok(error instanceof RoutingError);
      assert.equal(error.provider, 'gce');
      assert.match(
        error.message,
        new RegExp(`no ready responder pod behind service ${lego}/kube-lego-nginx`),
      );
      return true;
    });
    assert.equal(
      (await readUserIngress()).metadata?.resourceVersion,
      before.metadata?.resourceVersion,
    );
    assert.deepEqual(await ours(user), []);
    await router.cleanup();
    assert.deepEqual(await ours(lego), []);
  });

  test('open() undoes what it wrote when an Ingress of the certificate is missing', async () => {
    await createResponderSlice([{ address: '192.0.2.10', ready: true }]);
    const before = await readUserIngress();
    const cert = gceCert();
    cert.requesters.push({
      kind: 'Ingress',
      namespace: user,
      name: 'gone',
      uid: 'uid-gone',
      index: 0,
    });

    await assert.rejects(routers(settings).gce.open(cert), (error: unknown) => {
      assert.ok(error instanceof RoutingError);
      assert.match(error.message, new RegExp(`Ingress ${user}/gone`));
      return true;
    });
    assert.deepEqual(plain((await readUserIngress()).spec), plain(before.spec));
    assert.deepEqual(await ours(user), []);
  });

  test('a failed write keeps its cause: the Kubernetes error says what the apiserver refused', async () => {
    await createResponderSlice([{ address: '192.0.2.10', ready: true }]);
    // A host the apiserver refuses in a rule (upper case is not a DNS-1123 name).
    const cert = certificate({
      namespace: user,
      hosts: ['Bad_Host.example.com'],
      provider: 'gce',
      ingressClass: 'gce',
    });
    await assert.rejects(routers(settings).gce.open(cert), (error: unknown) => {
      assert.ok(error instanceof RoutingError);
      assert.match(error.message, new RegExp(`cannot add challenge paths to Ingress ${user}/web`));
      assert.ok(error.cause instanceof KubeApiError);
      assert.equal(error.cause.status, 422);
      return true;
    });
    assert.deepEqual(await ours(user), []);
  });

  test("cleanup() finds a crashed run's leftovers on its own: paths in the user's Ingress, the gce objects, the responder Service", async () => {
    await createResponderSlice([{ address: '192.0.2.10', ready: true }]);
    const before = await readUserIngress();
    await core.createNamespacedService({
      namespace: user,
      body: { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } },
    });
    await routers(settings).gce.open(gceCert()); // and the run crashes: no close()

    // The next run, cluster wide as without LEGO_WATCH_NAMESPACE.
    await routers(settingsFor(lego, '')).gce.cleanup();
    assert.deepEqual(plain((await readUserIngress()).spec), plain(before.spec));
    assert.deepEqual(await ours(user), []);
    assert.deepEqual(await ours(lego), []);
    const services = await core.listNamespacedService({ namespace: user });
    assert.deepEqual(
      services.items.map((s) => s.metadata?.name),
      ['web'],
    );
  });

  test('the RBAC rules of docs/routing.md are enough for open, close and cleanup of both routers', async () => {
    await createResponderSlice([{ address: '192.0.2.10', ready: true }]);
    const username = `routing-${lego}`;
    const observed = new ObservedKube();
    observed.impersonate(username);
    const cert = gceCert();

    // Without the rules the same calls are refused: the impersonation is real.
    await assert.rejects(routers(settings, observed).gce.open(cert), (error: unknown) => {
      assert.ok(error instanceof RoutingError);
      assert.ok(error.cause instanceof KubeApiError);
      assert.equal(error.cause.status, 403);
      return true;
    });

    const subjects = [{ kind: 'User', name: username, apiGroup: 'rbac.authorization.k8s.io' }];
    const legoRules: V1PolicyRule[] = [
      {
        apiGroups: [''],
        resources: ['services'],
        resourceNames: ['kube-lego-nginx'],
        verbs: ['create', 'patch', 'get', 'delete'],
      },
      {
        apiGroups: ['networking.k8s.io'],
        resources: ['ingresses'],
        resourceNames: ['kube-lego-nginx'],
        verbs: ['create', 'patch', 'get', 'delete'],
      },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list'] },
    ];
    const gceRules: V1PolicyRule[] = [
      {
        apiGroups: ['networking.k8s.io'],
        resources: ['ingresses'],
        verbs: ['get', 'list', 'patch'],
      },
      { apiGroups: [''], resources: ['services'], verbs: ['list'] },
      {
        apiGroups: [''],
        resources: ['services'],
        resourceNames: ['kube-lego-gce'],
        verbs: ['create', 'patch', 'get', 'delete'],
      },
      {
        apiGroups: ['discovery.k8s.io'],
        resources: ['endpointslices'],
        resourceNames: ['kube-lego-gce-ipv4', 'kube-lego-gce-ipv6'],
        verbs: ['create', 'patch', 'get', 'delete'],
      },
    ];
    await rbac.createNamespacedRole({
      namespace: lego,
      body: { metadata: { name: 'kube-lego-routing' }, rules: legoRules },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: lego,
      body: {
        metadata: { name: 'kube-lego-routing' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kube-lego-routing' },
        subjects,
      },
    });
    await rbac.createClusterRole({ body: { metadata: { name: username }, rules: gceRules } });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: username },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: username },
        subjects,
      },
    });
    // RBAC changes reach the authorizer's cache within moments; wait until they do (a guard
    // generous for a loaded machine, since this waits for a state change, not a window).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const probe = routers(settings, observed).ingress;
      try {
        await probe.cleanup();
        break;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error('the Roles were not in effect 60 s after they were created', {
            cause: error,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }

    const { ingress: nginx, gce } = routers(settingsFor(lego, ''), observed);
    await nginx.open(certificate({ namespace: user, hosts: ['a.example.com'] }));
    await nginx.close(certificate({ namespace: user, hosts: ['a.example.com'] }));
    await gce.open(cert);
    await gce.close(cert);
    await gce.open(cert);
    await nginx.cleanup();
    await gce.cleanup();
    assert.deepEqual(plain((await readUserIngress()).spec), plain(userIngress().spec));
    assert.deepEqual(await ours(user), []);
    assert.deepEqual(await ours(lego), []);
  });
});

describe('gce challenge paths (pure)', () => {
  const backend = { serviceName: 'kube-lego-gce', port: 8080 };
  const path = (p: string) => backendPath(p, 'web', 80);
  const cases: { name: string; rules: V1IngressRule[]; hosts: string[] }[] = [
    { name: 'no rules at all', rules: [], hosts: ['a.example.com'] },
    {
      name: 'a rule for the host',
      rules: [{ host: 'a.example.com', http: { paths: [path('/*')] } }],
      hosts: ['a.example.com'],
    },
    {
      name: 'a host-only rule (no http) is left alone; a rule of ours is added',
      rules: [{ host: 'a.example.com' }],
      hosts: ['a.example.com'],
    },
    {
      name: 'a catch-all rule and several hosts',
      rules: [
        { http: { paths: [path('/*')] } },
        { host: 'b.example.com', http: { paths: [path('/')] } },
      ],
      hosts: ['a.example.com', 'b.example.com'],
    },
  ];
  for (const { name, rules, hosts } of cases) {
    test(`add then remove restores the rules exactly: ${name}`, () => {
      const snapshot = structuredClone(rules);
      const added = addChallengePaths(rules, hosts, backend);
      assert.ok(added);
      assert.deepEqual(rules, snapshot, 'the input is not modified');
      for (const host of hosts) {
        assert.ok(
          added.some(
            (rule) =>
              rule.host === host &&
              rule.http?.paths.some((p) => p.path === '/.well-known/acme-challenge/*'),
          ),
          `${host} is routed`,
        );
      }
      assert.equal(addChallengePaths(added, hosts, backend), undefined, 'adding again: no change');
      assert.deepEqual(removeChallengePaths(added, ['kube-lego-gce']), rules);
      assert.equal(removeChallengePaths(rules, ['kube-lego-gce']), undefined);
    });
  }

  test('a challenge path of ours on another port is replaced, and one to another Service is not ours', () => {
    const stale = { ...buildChallengePath({ serviceName: 'kube-lego-gce', port: 9090 }) };
    const foreign = buildChallengePath({ serviceName: 'someone-else', port: 8080 });
    const rules: V1IngressRule[] = [{ host: 'a.example.com', http: { paths: [stale, foreign] } }];
    assert.deepEqual(addChallengePaths(rules, ['a.example.com'], backend), [
      { host: 'a.example.com', http: { paths: [buildChallengePath(backend), foreign] } },
    ]);
    assert.deepEqual(removeChallengePaths(rules, ['kube-lego-gce']), [
      { host: 'a.example.com', http: { paths: [foreign] } },
    ]);
  });
});
