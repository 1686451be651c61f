/**
 * End to end through a real ingress controller: Pebble's validator → Traefik (its Kubernetes
 * Ingress provider, outside the cluster) → the responder Service → its EndpointSlice → the
 * responder process, listening in a network namespace of this run (test/support/netns.ts) on the
 * address the slice publishes, as the endpointslice controller would for a ready pod.
 *
 * challtestsrv resolves the hosts under test to Traefik's address; Traefik's `web` entrypoint
 * listens on Pebble's httpPort there, because that is the one port Pebble's validator dials
 * (port 80 in production, RFC 8555 §8.3). The self-check dials the same address and port.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, DiscoveryV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { adminKubeConfig, claimPort, createNamespace, testEnv } from '../env/context.js';
import { assertValidTlsSecret, readSecret } from '../support/certificates.js';
import { annotatedIngress } from '../support/fixtures.js';
import { assertExit, jobEnv, runJob, type JobResult } from '../support/job-process.js';
import { createNetworkNamespace, kubeconfigVia, type NetworkNamespace } from '../support/netns.js';
import { startResponderProcess, type ResponderProcess } from '../support/responder-process.js';
import {
  ensureTraefikIngressClass,
  startTraefik,
  type AccessLogRecord,
  type TraefikProcess,
  waitForServedCertificate,
} from '../support/traefik-process.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const discovery = kc.makeApiClient(DiscoveryV1Api);
const networking = kc.makeApiClient(NetworkingV1Api);

const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
const PEBBLE_VA = 'LetsEncrypt-Pebble-VA';
const RESPONDER_PORT = 8080;
/** Port the user's backend Service points at: nothing listens there (its endpoints go nowhere). */
const NOWHERE_PORT = 9;

let netns: NetworkNamespace;
let traefik: TraefikProcess;
let responderKubeconfig: string;
let responder: ResponderProcess | undefined;
const hostsResolved: string[] = [];

before(async () => {
  const dir = mkdtempSync(join(testEnv().dir, 'traefik-'));
  netns = createNetworkNamespace();
  // The responder in the namespace reaches the (loopback-only) apiserver through a relay.
  const apiPort = Number(new URL(testEnv().apiServerUrl).port);
  const relayPort = claimPort();
  await netns.relay(apiPort, relayPort);
  responderKubeconfig = kubeconfigVia(
    testEnv().kubeconfig,
    join(dir, 'responder-kubeconfig'),
    netns.hostAddress,
    relayPort,
    'localhost',
  );
  await ensureTraefikIngressClass('traefik');
  traefik = await startTraefik({
    webAddress: netns.hostAddress,
    webPort: testEnv().pebble.httpPort,
    dir,
  });
});

after(async () => {
  await responder?.stop();
  await traefik.stop();
  await netns.remove();
  for (const host of hostsResolved) {
    await fetch(`${testEnv().challtestsrv.managementUrl}/clear-a`, {
      method: 'POST',
      body: JSON.stringify({ host }),
    });
  }
});

/** Makes challtestsrv answer Traefik's address for `hosts` (Pebble and the self-check ask it). */
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

interface Scene {
  lego: string;
  app: string;
  env: (extra?: Record<string, string>) => Record<string, string>;
}

async function scene(name: string): Promise<Scene> {
  const lego = await createNamespace(`${name}-lego`);
  const app = await createNamespace(`${name}-app`);
  // The user's backend: a Service `web` whose one endpoint is an address where nothing listens.
  await core.createNamespacedService({
    namespace: app,
    body: {
      metadata: { name: 'web' },
      spec: { ports: [{ name: 'http', port: 80, targetPort: NOWHERE_PORT }] },
    },
  });
  await publishEndpoints(app, 'web', NOWHERE_PORT, true);
  return {
    lego,
    app,
    env: (extra = {}) =>
      jobEnv(lego, {
        LEGO_WATCH_NAMESPACE: app,
        LEGO_SUPPORTED_INGRESS_CLASS: 'traefik',
        LEGO_DEFAULT_INGRESS_PROVIDER: 'ingress',
        LEGO_PORT: String(RESPONDER_PORT),
        // The self-check is what waits for Traefik to have built the challenge route.
        LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '120s',
        ...extra,
      }),
  };
}

/**
 * Publishes the netns address behind `service`, as the endpointslice controller would for a pod
 * that is ready (or, with `ready` false, one that is not: ready and serving both false).
 */
async function publishEndpoints(
  namespace: string,
  service: string,
  port: number,
  ready: boolean,
): Promise<void> {
  await discovery.createNamespacedEndpointSlice({
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
          conditions: ready
            ? { ready: true, serving: true, terminating: false }
            : { ready: false, serving: false, terminating: false },
        },
      ],
      ports: [{ name: 'http', port, protocol: 'TCP' }],
    },
  });
}

/** (Re)starts the responder "pod" in the namespace, watching `lego`. */
async function startResponder(lego: string): Promise<ResponderProcess> {
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
  return responder;
}

/** A plain HTTP GET to Traefik's web entrypoint for `host`, as a browser would send it. */
async function get(host: string, path: string): Promise<{ status: number; location?: string }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: traefik.webAddress,
        port: traefik.webPort,
        path,
        headers: { host, 'user-agent': 'user-browser' },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, location: res.headers.location });
        });
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${host}${path}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * The access log record of the request `path` to `host`. Traefik writes it once the response is
 * done, which may be just after the client has it: this waits for the line (a guard of 60 s, for
 * a loaded machine; the log is a file, so it is read again until the line is there).
 */
async function logged(host: string, path: string): Promise<AccessLogRecord> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const record = traefik
      .accessLog()
      .findLast((r) => r.RequestHost === host && r.RequestPath === path);
    if (record) return record;
    assert.ok(Date.now() < deadline, `Traefik logged no request for ${host}${path}`);
    await sleep(50);
  }
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

function userService(app: string): string {
  // Traefik names a Kubernetes Ingress backend <namespace>-<service>-<port>.
  return `${app}-web-80`;
}

function challengeService(lego: string): string {
  return `${lego}-kube-lego-nginx-${RESPONDER_PORT}`;
}

/** Whether a Traefik rule starts from `Host(<host>)` (Traefik quotes with " or `). */
function matchesHost(rule: string, host: string): boolean {
  return rule.includes(`Host("${host}")`) || rule.includes(`Host(\`${host}\`)`);
}

/** A service name as the API or the access log gives it, without its `@provider` suffix. */
function service(name: string | undefined): string {
  return (name ?? '').replace(/@[a-z]+$/, '');
}

describe('through Traefik: class traefik, two hosts, the user catch-all `/`', () => {
  const hosts = ['shop.traefik.example', 'www.shop.traefik.example'];
  let s: Scene;
  let result: JobResult;

  before(async () => {
    s = await scene('traefik');
    await resolveToTraefik(hosts);
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('shop', [{ hosts, secretName: 'shop-tls' }], {
        className: 'traefik',
      }),
    });
    await traefik.waitForRouters(
      (routers) =>
        hosts.every((h) =>
          routers.some((r) => matchesHost(r.rule, h) && service(r.service) === userService(s.app)),
        ),
      "the user's routes",
    );
    // The responder Service's endpoint is published, but the responder "pod" is not started
    // yet: the job's self-check keeps failing (Traefik answers 502) until it is. That holds the
    // order open, deterministically, while the test looks at the traffic during it.
    await publishEndpoints(s.lego, 'kube-lego-nginx', RESPONDER_PORT, true);
  });

  test('user traffic reaches the user backend before, during and after the order; Pebble validated through Traefik', async (t) => {
    for (const host of hosts) {
      await get(host, '/cart');
      assert.equal(
        service((await logged(host, '/cart')).ServiceName),
        userService(s.app),
        'before the order',
      );
    }

    const job = runJob(s.env());
    const during = await traefik.waitForRouters(
      (routers) =>
        hosts.every((h) =>
          routers.some(
            (r) =>
              matchesHost(r.rule, h) &&
              r.rule.includes(CHALLENGE_PREFIX) &&
              service(r.service) === challengeService(s.lego),
          ),
        ),
      'the challenge routes',
    );
    const added = await networking.readNamespacedIngress({
      namespace: s.lego,
      name: 'kube-lego-nginx',
    });
    assert.equal(added.spec?.ingressClassName, 'traefik');
    const challengeRouters = during.filter((r) => service(r.service) === challengeService(s.lego));
    t.diagnostic(`challenge routers: ${JSON.stringify(challengeRouters)}`);
    for (const host of hosts) {
      await get(host, '/cart/during');
      assert.equal(
        service((await logged(host, '/cart/during')).ServiceName),
        userService(s.app),
        'during',
      );
      // The challenge path goes to the responder Service (502: the "pod" is not up yet).
      await get(host, `${CHALLENGE_PREFIX}probe`);
      assert.equal(
        service((await logged(host, `${CHALLENGE_PREFIX}probe`)).ServiceName),
        challengeService(s.lego),
      );
    }

    await startResponder(s.lego);
    result = await job;
    assertExit(result, 0);
    assert.equal(result.summary?.issued, 1);
    await assertValidTlsSecret(await readSecret(s.app, 'shop-tls'), hosts);

    const seen = validations(hosts);
    for (const host of hosts) {
      const record = seen.find((r) => r.RequestHost === host && r.DownstreamStatus === 200);
      assert.ok(record, `Pebble's validation of ${host} came through Traefik with 200`);
      assert.equal(service(record.ServiceName), challengeService(s.lego));
      assert.equal(record.entryPointName, 'web');
      assert.equal(record.ServiceURL, `http://${netns.address}:${RESPONDER_PORT}`);
    }
    t.diagnostic(`one validation as Traefik logged it: ${JSON.stringify(seen[0])}`);

    // After: the challenge Ingress is gone, Traefik drops its routes, the catch-all has it all.
    await traefik.waitForRouters(
      (routers) => !routers.some((r) => service(r.service) === challengeService(s.lego)),
      'the challenge routes removed',
    );
    for (const host of hosts) {
      await get(host, '/cart/after');
      assert.equal(
        service((await logged(host, '/cart/after')).ServiceName),
        userService(s.app),
        'after',
      );
      await get(host, `${CHALLENGE_PREFIX}after`);
      assert.equal(
        service((await logged(host, `${CHALLENGE_PREFIX}after`)).ServiceName),
        userService(s.app),
      );
    }
  });
});

describe('through Traefik: a user Ingress that redirects all HTTP to HTTPS', () => {
  test('the challenge is answered over plain HTTP (no redirect), and issued', async (t) => {
    const host = 'secure.traefik.example';
    const s = await scene('redirect');
    await resolveToTraefik([host]);
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('secure', [{ hosts: [host], secretName: 'secure-tls' }], {
        className: 'traefik',
        annotations: { 'traefik.ingress.kubernetes.io/router.middlewares': 'to-https@file' },
      }),
    });
    await traefik.waitForRouters(
      (routers) =>
        routers.some(
          (r) => matchesHost(r.rule, host) && (r.middlewares ?? []).includes('to-https@file'),
        ),
      "the user's redirecting route",
    );
    const before = await get(host, '/');
    assert.equal(before.status, 301, 'the user route redirects (permanent: 301 for a GET)');
    assert.equal(before.location, `https://${host}/`);
    await publishEndpoints(s.lego, 'kube-lego-nginx', RESPONDER_PORT, true);
    await startResponder(s.lego);

    const result = await runJob(s.env());
    assertExit(result, 0);
    await assertValidTlsSecret(await readSecret(s.app, 'secure-tls'), [host]);
    const seen = validations([host]);
    assert.ok(seen.length > 0, "Pebble's validation came through Traefik");
    for (const record of seen) {
      assert.equal(record.DownstreamStatus, 200, 'answered, not redirected');
      assert.equal(service(record.ServiceName), challengeService(s.lego));
    }
    t.diagnostic(`validation: ${JSON.stringify(seen[0])}`);
    // The user's own traffic is still redirected.
    assert.equal((await get(host, '/account')).status, 301);
  });
});

describe('through Traefik: the route preflight catches a broken route', () => {
  test('no ready endpoint behind the responder Service: the entry fails at the route preflight, no order, Pebble never validates', async () => {
    const host = 'broken.traefik.example';
    const s = await scene('broken');
    await resolveToTraefik([host]);
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('broken', [{ hosts: [host], secretName: 'broken-tls' }], {
        className: 'traefik',
      }),
    });
    await traefik.waitForRouters(
      (routers) => routers.some((r) => matchesHost(r.rule, host)),
      "the user's route",
    );
    // The responder runs, but its endpoint is published as not ready (a failing readiness
    // probe): Traefik builds no route to the responder Service.
    await publishEndpoints(s.lego, 'kube-lego-nginx', RESPONDER_PORT, false);
    await startResponder(s.lego);

    const result = await runJob(s.env({ LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '5s' }));
    assertExit(result, 0); // a certificate's failure: the run itself worked
    const failure = result.logs.find((l) => l.msg === 'certificate could not be obtained');
    assert.equal(failure?.reason, 'RouteUnreachable', JSON.stringify(failure));
    assert.match(
      String(failure.error),
      /broken\.traefik\.example \(GET http:\/\/\S+ answered HTTP \d+/,
    );
    assert.equal(result.summary?.acmeRequests, 0, 'no order');
    assert.equal(await readSecret(s.app, 'broken-tls'), undefined);

    const requests = traefik.accessLog().filter((r) => r.RequestHost === host);
    const probes = requests.filter((r) => r['request_User-Agent'] === 'kube-lego-route-preflight');
    assert.ok(probes.length > 0, 'the route preflight went through Traefik');
    // With no ready endpoint the challenge path falls to the user's catch-all.
    for (const r of probes) assert.equal(service(r.ServiceName), userService(s.app));
    assert.deepEqual(validations([host]), [], 'Pebble was never asked to validate');
  });
});

describe('through Traefik: renewal of a short-lived certificate served on its TLS entrypoint', () => {
  test('a TLS client sees the renewed certificate after the run', async () => {
    const host = 'short.traefik.example';
    const s = await scene('tlsrenew');
    await resolveToTraefik([host]);
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('short', [{ hosts: [host], secretName: 'short-tls' }], {
        className: 'traefik',
        annotations: { 'traefik.ingress.kubernetes.io/router.tls': 'true' },
      }),
    });
    await publishEndpoints(s.lego, 'kube-lego-nginx', RESPONDER_PORT, true);
    await startResponder(s.lego);
    // The lifetime rule alone (ARI off): Pebble's ARI window for a 20 s certificate spans its
    // whole life, so a time drawn in it could fall before the early run.
    const env = s.env({ LEGO_ACME_PROFILE: 'shortlived', LEGO_RENEWAL_INFO: 'false' });

    assertExit(await runJob(env), 0);
    const first = await assertValidTlsSecret(await readSecret(s.app, 'short-tls'), [host]);
    const servedFirst = await waitForServedCertificate(
      traefik.websecurePort,
      host,
      first.serialNumber,
    );
    assert.equal(servedFirst.serialNumber, first.serialNumber);

    const lifetime = Date.parse(first.validTo) - Date.parse(first.validFrom);
    const dueAt = Date.parse(first.validTo) - lifetime / 3;
    // Renewal is due when a third of its life is left: the run happens then through the job's
    // test clock, not by waiting (a slow start only moves it later, still due).
    const late = await runJob({
      ...env,
      KUBE_LEGO_TEST_HOOKS: 'enabled',
      KUBE_LEGO_TEST_CLOCK_OFFSET: `${Math.max(0, Math.ceil((dueAt - Date.now()) / 1000))}s`,
    });
    assertExit(late, 0);
    assert.equal(late.summary?.renewed, 1);
    const second = await assertValidTlsSecret(await readSecret(s.app, 'short-tls'), [host]);
    assert.notEqual(second.serialNumber, first.serialNumber);
    const servedSecond = await waitForServedCertificate(
      traefik.websecurePort,
      host,
      second.serialNumber,
    );
    assert.equal(servedSecond.serialNumber, second.serialNumber);
  });
});

/**
 * Waits until Traefik presents the certificate with `serial` for `host`: it reloads when the
 * apiserver tells it the Secret changed. @throws Error after 60 s naming what it served.
 */
