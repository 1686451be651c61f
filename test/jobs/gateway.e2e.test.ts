/**
 * End to end through Gateway API: Pebble's validator → Traefik's Kubernetes Gateway provider
 * (outside the cluster) → the challenge HTTPRoute the job attaches to the Gateway's HTTP
 * listener → the responder Service → its EndpointSlice → the responder process in a network
 * namespace of this run (test/support/netns.ts).
 *
 * The Gateway API CRDs (standard channel, test/env/build-servers.sh gateway-crds) are installed
 * only into a private API server of this file (test/env/kube-only.ts): the rest of the suite
 * runs against a cluster without them, as most clusters are. Pebble and challtestsrv are the
 * shared ones; challtestsrv resolves the hosts to Traefik's address, whose `web` entrypoint
 * listens on Pebble's httpPort (port 80 in production, RFC 8555 §8.3) — hence
 * LEGO_GATEWAY_HTTP_PORT, and the Gateway's HTTP listener on that port.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  loadAllYaml,
  Watch,
  type V1CustomResourceDefinition,
  type V1Secret,
} from '@kubernetes/client-node';
import { adminKubeConfig, claimPort, jobKubeHttp, testEnv } from '../env/context.js';
import { startKubeApiServer, type KubeOnly } from '../env/kube-only.js';
import type { DesiredCertificate } from '../../jobs/model.js';
import { createChallengeRouters } from '../../jobs/routing/routers.js';
import { silentLogger } from '../../shared/logger.js';
import { assertValidTlsSecret } from '../support/certificates.js';
import { assertExit, jobEnv, runJob, startJob, type JobResult } from '../support/job-process.js';
import { createNetworkNamespace, kubeconfigVia, type NetworkNamespace } from '../support/netns.js';
import { startResponderProcess, type ResponderProcess } from '../support/responder-process.js';
import {
  startTraefik,
  TRAEFIK_GATEWAY_CONTROLLER,
  type AccessLogRecord,
  type TraefikProcess,
  waitForServedCertificate,
} from '../support/traefik-process.js';

const GROUP = 'gateway.networking.k8s.io';
const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
const PEBBLE_VA = 'LetsEncrypt-Pebble-VA';
const RESPONDER_PORT = 8080;
const NOWHERE_PORT = 9;

let kube: KubeOnly;
let kc: KubeConfig;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let netns: NetworkNamespace;
let traefik: TraefikProcess;
let responder: ResponderProcess | undefined;
let responderKubeconfig: string;
const hostsResolved: string[] = [];

before(async () => {
  kube = await startKubeApiServer();
  kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  await installGatewayCrds();

  const dir = mkdtempSync(join(testEnv().dir, 'gateway-'));
  netns = createNetworkNamespace();
  const relayPort = claimPort();
  await netns.relay(Number(new URL(kube.apiServerUrl).port), relayPort);
  responderKubeconfig = kubeconfigVia(
    kube.kubeconfig,
    join(dir, 'responder-kubeconfig'),
    netns.hostAddress,
    relayPort,
    'localhost',
  );
  await custom.createClusterCustomObject({
    group: GROUP,
    version: 'v1',
    plural: 'gatewayclasses',
    body: {
      apiVersion: `${GROUP}/v1`,
      kind: 'GatewayClass',
      metadata: { name: 'traefik' },
      spec: { controllerName: TRAEFIK_GATEWAY_CONTROLLER },
    },
  });
  traefik = await startTraefik({
    webAddress: netns.hostAddress,
    webPort: testEnv().pebble.httpPort,
    dir,
    kubeconfig: kube.kubeconfig,
    gateway: true,
  });
});

after(async () => {
  await responder?.stop();
  await traefik?.stop();
  await netns?.remove();
  await kube?.stop();
  for (const host of hostsResolved) {
    await fetch(`${testEnv().challtestsrv.managementUrl}/clear-a`, {
      method: 'POST',
      body: JSON.stringify({ host }),
    });
  }
});

/** Applies the standard channel's CRDs and waits, by a watch, until each is Established. */
async function installGatewayCrds(): Promise<void> {
  const folder = process.env.GATEWAY_CRDS_DIR;
  if (!folder) throw new Error('GATEWAY_CRDS_DIR is not set: run the tests with `npm test`');
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const names: string[] = [];
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.yaml'))) {
    for (const crd of loadAllYaml(
      readFileSync(join(folder, file), 'utf8'),
    ) as V1CustomResourceDefinition[]) {
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      await api.createCustomResourceDefinition({ body: crd });
      names.push(crd.metadata!.name!);
    }
  }
  assert.ok(names.includes(`gateways.${GROUP}`) && names.includes(`httproutes.${GROUP}`));
  for (const name of names) await established(name);
}

async function established(name: string): Promise<void> {
  let request: AbortController | undefined;
  await new Promise<void>((resolve, reject) => {
    void new Watch(kc)
      .watch(
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
        { fieldSelector: `metadata.name=${name}` },
        (_type, object: { status?: { conditions?: { type: string; status: string }[] } }) => {
          const conditions = object.status?.conditions ?? [];
          if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) resolve();
        },
        (error: unknown) => {
          reject(
            new Error(`the watch of CRD ${name} ended before it was Established`, { cause: error }),
          );
        },
      )
      .then((controller) => (request = controller), reject);
  });
  request?.abort();
}

let counter = 0;
async function createNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

async function readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ namespace, name });
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

async function resolveToTraefik(hosts: string[]): Promise<void> {
  for (const host of hosts) {
    const response = await fetch(`${testEnv().challtestsrv.managementUrl}/add-a`, {
      method: 'POST',
      body: JSON.stringify({ host, addresses: [traefik.webAddress] }),
    });
    assert.equal(response.status, 200, `challtestsrv /add-a ${host}`);
    hostsResolved.push(host);
  }
}

/** The netns address behind `service`, as the endpointslice controller would publish it. */
async function publishEndpoints(namespace: string, service: string, port: number): Promise<void> {
  await kc.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
    namespace,
    body: {
      metadata: {
        name: `${service}-x7k2p`,
        labels: {
          'kubernetes.io/service-name': service,
          'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        },
      },
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: [netns.address],
          conditions: { ready: true, serving: true, terminating: false },
        },
      ],
      ports: [{ name: 'http', port, protocol: 'TCP' }],
    },
  });
}

interface Scene {
  lego: string;
  app: string;
  env: (extra?: Record<string, string>) => Record<string, string>;
}

/**
 * A lego namespace, an app namespace with the user's backend `web` (nothing listens behind
 * it), and the annotated Gateway `edge`: an HTTP listener on Pebble's httpPort that admits
 * routes from every namespace, and one HTTPS listener per host on the websecure port, each with
 * its own Secret; plus the user's HTTPRoute sending `/` of the hosts to `web`.
 */
async function scene(name: string, hosts: string[]): Promise<Scene> {
  const lego = await createNamespace(`${name}-lego`);
  const app = await createNamespace(`${name}-app`);
  await core.createNamespacedService({
    namespace: app,
    body: {
      metadata: { name: 'web' },
      spec: { ports: [{ name: 'http', port: 80, targetPort: NOWHERE_PORT }] },
    },
  });
  await publishEndpoints(app, 'web', NOWHERE_PORT);
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1',
    namespace: app,
    plural: 'gateways',
    body: {
      apiVersion: `${GROUP}/v1`,
      kind: 'Gateway',
      metadata: { name: 'edge', annotations: { 'kubernetes.io/tls-acme': 'true' } },
      spec: {
        gatewayClassName: 'traefik',
        listeners: [
          {
            name: 'http',
            protocol: 'HTTP',
            port: testEnv().pebble.httpPort,
            allowedRoutes: { namespaces: { from: 'All' } },
          },
          ...hosts.map((host, i) => ({
            name: `https-${i}`,
            protocol: 'HTTPS',
            port: traefik.websecurePort,
            hostname: host,
            tls: {
              mode: 'Terminate',
              certificateRefs: [{ kind: 'Secret', name: `site-${i}-tls` }],
            },
          })),
        ],
      },
    },
  });
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1',
    namespace: app,
    plural: 'httproutes',
    body: {
      apiVersion: `${GROUP}/v1`,
      kind: 'HTTPRoute',
      metadata: { name: 'web' },
      spec: {
        parentRefs: [{ name: 'edge' }],
        hostnames: hosts,
        rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
      },
    },
  });
  await publishEndpoints(lego, 'kube-lego-nginx', RESPONDER_PORT);
  return {
    lego,
    app,
    env: (extra = {}) =>
      jobEnv(lego, {
        KUBECONFIG: kube.kubeconfig,
        LEGO_WATCH_NAMESPACE: app,
        LEGO_PORT: String(RESPONDER_PORT),
        LEGO_GATEWAY_HTTP_PORT: String(testEnv().pebble.httpPort),
        LEGO_SUPPORTED_GATEWAY_CLASS: 'traefik',
        // The self-check is what waits for Traefik to have attached the challenge route.
        LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '120s',
        ...extra,
      }),
  };
}

async function startResponder(lego: string): Promise<void> {
  await responder?.stop();
  responder = await startResponderProcess({
    namespace: lego,
    netns: netns.name,
    host: netns.address,
    port: RESPONDER_PORT,
    metricsPort: RESPONDER_PORT + 1,
    kubeconfig: responderKubeconfig,
    timeoutMs: 60_000,
  });
}

function validations(hosts: string[]): AccessLogRecord[] {
  return traefik
    .accessLog()
    .filter(
      (r) =>
        hosts.includes(r.RequestHost ?? '') &&
        (r.RequestPath ?? '').startsWith(CHALLENGE_PREFIX) &&
        (r['request_User-Agent'] ?? '').startsWith(PEBBLE_VA),
    );
}

async function httpRoute(namespace: string, name: string): Promise<unknown> {
  try {
    return await custom.getNamespacedCustomObject({
      group: GROUP,
      version: 'v1',
      namespace,
      plural: 'httproutes',
      name,
    });
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

describe('through a Gateway: an HTTP listener and two HTTPS listeners for two hosts', () => {
  const hosts = ['a.gateway.example', 'b.gateway.example'];

  test('both certificates issued through the HTTPRoute, served on the HTTPS listeners; the HTTPRoute is gone; a short-lived one is renewed the same way', async (t) => {
    const s = await scene('gw', hosts);
    await resolveToTraefik(hosts);
    await startResponder(s.lego);
    // The lifetime rule alone (ARI off): Pebble's ARI window for a 20 s certificate spans its
    // whole life, so a time drawn in it could fall after the renewal run below.
    const env = s.env({ LEGO_ACME_PROFILE: 'shortlived', LEGO_RENEWAL_INFO: 'false' });

    const result = await runJob(env);
    assertExit(result, 0);
    assert.equal(result.summary?.issued, 2);
    const leaves = [];
    for (const [i, host] of hosts.entries()) {
      leaves.push(await assertValidTlsSecret(await readSecret(s.app, `site-${i}-tls`), [host]));
    }

    // Pebble validated each host through Traefik, by the challenge HTTPRoute to the responder.
    const seen = validations(hosts);
    t.diagnostic(`one validation as Traefik logged it: ${JSON.stringify(seen[0])}`);
    for (const host of hosts) {
      const record = seen.find((r) => r.RequestHost === host && r.DownstreamStatus === 200);
      assert.ok(record, `Pebble's validation of ${host} came through Traefik with 200`);
      assert.equal(record.ServiceURL, `http://${netns.address}:${RESPONDER_PORT}`);
      assert.match(record.RouterName ?? '', new RegExp(`httproute-${s.lego}-kube-lego-gateway`));
    }
    const applied = result.logs.find((l) => l.msg === 'challenge httproute applied');
    assert.ok(applied, 'the job applied the challenge HTTPRoute');
    assert.equal(await httpRoute(s.lego, 'kube-lego-gateway'), undefined, 'the HTTPRoute is gone');

    // Traefik serves the new certificates on the HTTPS listeners.
    for (const [i, host] of hosts.entries()) {
      await waitForServedCertificate(traefik.websecurePort, host, leaves[i]!.serialNumber);
    }

    // Events on the Gateway say what happened.
    const events = await core.listNamespacedEvent({ namespace: s.app });
    const onGateway = events.items.filter(
      (e) => e.involvedObject.kind === 'Gateway' && e.involvedObject.name === 'edge',
    );
    assert.deepEqual(
      onGateway.map((e) => e.reason).sort(),
      ['Issued', 'Issued'],
      JSON.stringify(onGateway.map((e) => e.message)),
    );
    assert.equal(onGateway[0]!.involvedObject.apiVersion, `${GROUP}/v1`);

    // Renewal: when a third of the short life is left, the same way.
    const first = leaves[0]!;
    const lifetime = Date.parse(first.validTo) - Date.parse(first.validFrom);
    const dueAt = Math.max(...leaves.map((l) => Date.parse(l.validTo))) - lifetime / 3;
    // The run happens then through the job's test clock, not by waiting (a slow start only moves
    // it later, still due).
    const late = await runJob({
      ...env,
      KUBE_LEGO_TEST_HOOKS: 'enabled',
      KUBE_LEGO_TEST_CLOCK_OFFSET: `${Math.max(0, Math.ceil((dueAt - Date.now()) / 1000))}s`,
    });
    assertExit(late, 0);
    assert.equal(late.summary?.renewed, 2);
    for (const [i, host] of hosts.entries()) {
      const renewed = await assertValidTlsSecret(await readSecret(s.app, `site-${i}-tls`), [host]);
      assert.notEqual(renewed.serialNumber, leaves[i]!.serialNumber);
      await waitForServedCertificate(traefik.websecurePort, host, renewed.serialNumber);
    }
    assert.equal(await httpRoute(s.lego, 'kube-lego-gateway'), undefined, 'gone after renewal too');
  });

  test('plan names the Gateway listener as the source; an HTTPS listener without hostname is invalid', async () => {
    const s = await scene('gwplan', ['c.gateway.example']);
    await custom.patchNamespacedCustomObject({
      group: GROUP,
      version: 'v1',
      namespace: s.app,
      plural: 'gateways',
      name: 'edge',
      body: [
        {
          op: 'add',
          path: '/spec/listeners/-',
          value: {
            name: 'no-host',
            protocol: 'HTTPS',
            port: traefik.websecurePort + 1,
            tls: { certificateRefs: [{ name: 'x-tls' }] },
          },
        },
      ],
    });
    const plan = await startJob(s.env(), ['plan']).result;
    assert.equal(plan.code, 1, 'an invalid entry makes plan exit 1');
    assert.match(
      plan.stdout,
      /Gateway\s+\S+\/site-0-tls\s+c\.gateway\.example\s+Issue\s+SecretMissing/,
      plan.stdout + plan.stderr,
    );
    assert.match(plan.stdout, /Gateway\s+\S+\/x-tls\s+-\s+Invalid\s+ListenerWithoutHostname/);
    assert.match(plan.stdout, /listener "no-host"/);
  });
});

describe('a cluster without the Gateway API CRDs (the shared API server)', () => {
  /** Log lines above debug that speak of Gateways. */
  const aboutGateways = (result: JobResult) =>
    result.logs.filter((l) => l.level !== 'debug' && /gateway/i.test(JSON.stringify(l)));

  test('by default: one info line, no warning, no error; Ingresses read as before', async () => {
    const core = adminKubeConfig().makeApiClient(CoreV1Api);
    const namespace = `gw-none-${Math.random().toString(36).slice(2, 8)}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const env = jobEnv(namespace, {
      KUBECONFIG: testEnv().kubeconfig,
      LEGO_WATCH_NAMESPACE: namespace,
    });
    const plan = await startJob(env, ['plan']).result;
    assert.equal(plan.code, 0, plan.stderr);
    const lines = aboutGateways(plan);
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg]),
      [['info', 'Gateway API not installed (no gateway.networking.k8s.io/v1): Ingresses only']],
    );
    assert.ok(!plan.logs.some((l) => l.level === 'warn' || l.level === 'error'), plan.stderr);

    // LEGO_SOURCES naming only Ingresses: not even that line (no discovery request).
    const ingressOnly = await startJob({ ...env, LEGO_SOURCES: 'ingress' }, ['plan']).result;
    assert.equal(ingressOnly.code, 0, ingressOnly.stderr);
    assert.deepEqual(aboutGateways(ingressOnly), []);

    // LEGO_SOURCES naming gateway on such a cluster: a warning, still no error.
    const named = await startJob({ ...env, LEGO_SOURCES: 'ingress,gateway' }, ['plan']).result;
    assert.equal(named.code, 0, named.stderr);
    assert.deepEqual(
      aboutGateways(named).map((l) => l.level),
      ['warn'],
    );
  });
});

describe('the HTTPRoute router against the API server (with the Gateway API CRDs)', () => {
  const settings = {
    namespace: '',
    port: RESPONDER_PORT,
    serviceSelector: 'kube-lego',
    serviceNameNginx: 'kube-lego-nginx',
    serviceNameGce: 'kube-lego-gce',
    ingressNameNginx: 'kube-lego-nginx',
    httpRouteName: 'kube-lego-gateway',
    watchNamespace: '',
  };
  const certificate = (app: string): DesiredCertificate => ({
    namespace: app,
    secretName: 'site-tls',
    hosts: ['r.gateway.example', 'www.r.gateway.example'],
    commonName: 'r.gateway.example',
    requesters: [
      { kind: 'Gateway', namespace: app, name: 'edge', uid: 'u', index: 1, listener: 'https' },
    ],
    ingressClass: 'traefik',
    provider: 'gateway',
    httpListeners: [
      { namespace: app, name: 'edge', listener: 'http' },
      { namespace: app, name: 'edge', listener: 'http-alt' },
    ],
  });

  test('open applies the labelled route for exactly the hosts and listeners; close and cleanup remove it; an unlabelled route of that name is left alone', async () => {
    const lego = await createNamespace('route-lego');
    const app = await createNamespace('route-app');
    const routers = createChallengeRouters({
      kube: await jobKubeHttp(kube.kubeconfig),
      settings: { ...settings, namespace: lego },
      logger: silentLogger,
    });
    await routers.gateway.open(certificate(app));
    const route = (await httpRoute(lego, 'kube-lego-gateway')) as {
      metadata: { labels: Record<string, string> };
      spec: { parentRefs: unknown[]; hostnames: string[]; rules: unknown[] };
    };
    assert.equal(route.metadata.labels['kube-lego.io/routing-provider'], 'gateway');
    assert.equal(route.metadata.labels['app.kubernetes.io/managed-by'], 'kube-lego');
    assert.deepEqual(route.spec.hostnames, ['r.gateway.example', 'www.r.gateway.example']);
    assert.deepEqual(
      route.spec.parentRefs,
      ['http', 'http-alt'].map((sectionName) => ({
        group: GROUP,
        kind: 'Gateway',
        namespace: app,
        name: 'edge',
        sectionName,
      })),
    );
    assert.deepEqual(route.spec.rules, [
      {
        matches: [{ path: { type: 'PathPrefix', value: CHALLENGE_PREFIX } }],
        backendRefs: [
          { group: '', kind: 'Service', name: 'kube-lego-nginx', port: RESPONDER_PORT, weight: 1 },
        ],
      },
    ]);
    const grants = (await custom.listNamespacedCustomObject({
      group: GROUP,
      version: 'v1beta1',
      namespace: app,
      plural: 'referencegrants',
    })) as { items: unknown[] };
    assert.deepEqual(grants.items, [], 'no ReferenceGrant');

    await routers.gateway.close(certificate(app));
    assert.equal(await httpRoute(lego, 'kube-lego-gateway'), undefined);

    // A crashed run's leftover: the next run's cleanup finds it by name and labels.
    await routers.gateway.open(certificate(app));
    const next = createChallengeRouters({
      kube: await jobKubeHttp(kube.kubeconfig),
      settings: { ...settings, namespace: lego },
      logger: silentLogger,
    });
    await next.gateway.cleanup();
    assert.equal(await httpRoute(lego, 'kube-lego-gateway'), undefined);
    assert.equal(
      (await core.listNamespacedService({ namespace: lego })).items.length,
      0,
      'the responder Service is gone too',
    );

    // Someone else's HTTPRoute of that name, without our labels: never deleted.
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1',
      namespace: lego,
      plural: 'httproutes',
      body: {
        apiVersion: `${GROUP}/v1`,
        kind: 'HTTPRoute',
        metadata: { name: 'kube-lego-gateway' },
        spec: { parentRefs: [{ name: 'edge', namespace: app }], rules: [{}] },
      },
    });
    await createChallengeRouters({
      kube: await jobKubeHttp(kube.kubeconfig),
      settings: { ...settings, namespace: lego },
      logger: silentLogger,
    }).gateway.cleanup();
    assert.ok(await httpRoute(lego, 'kube-lego-gateway'), 'left alone');
  });
});
