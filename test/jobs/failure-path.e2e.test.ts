/**
 * End to end, the failure path (issue 9): the job as its own process against the real
 * kube-apiserver and Pebble, with something around it failing — an admission policy refusing
 * Secret writes, a frozen API server, an ACME server that is gone or never answers, a SIGTERM in
 * the middle of an order, a validation server answering the wrong body, a domain that never
 * validates over a simulated day.
 *
 * Pebble dials one port for HTTP-01; each test decides what listens there (the responder, a
 * server answering the wrong body, one that never answers, or nothing) and frees it at its end.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AdmissionregistrationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  NetworkingV1Api,
} from '@kubernetes/client-node';
import acme from 'acme-client';
import { X509Certificate } from 'node:crypto';
import { PAUSED_MESSAGE, RESUME_SIGNAL } from '../../jobs/test-pause.js';
import { parseAccountSecret } from '../../jobs/kube/account-secret.js';
import { decodeKept, KEPT_SECRET_NAME } from '../../shared/kept-certificates.js';
import { decodeStatus } from '../../shared/status-entries.js';
import { adminKubeConfig, createNamespace, testEnv } from '../env/context.js';
import { startKubeApiServer, type KubeOnly } from '../env/kube-only.js';
import { assertValidTlsSecret, readSecret } from '../support/certificates.js';
import { annotatedIngress } from '../support/fixtures.js';
import { assertExit, jobEnv, runJob, startJob, type JobResult } from '../support/job-process.js';
import { startResponderProcess, type ResponderProcess } from '../support/responder-process.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const networking = kc.makeApiClient(NetworkingV1Api);
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
const coordination = kc.makeApiClient(CoordinationV1Api);

/** Test hooks on: the job may be run at a simulated time (jobs/test-clock.ts). */
function at(hours: number): Record<string, string> {
  return { KUBE_LEGO_TEST_HOOKS: 'enabled', KUBE_LEGO_TEST_CLOCK_OFFSET: `${hours}h` };
}

interface Scene {
  lego: string;
  app: string;
  env: (extra?: Record<string, string>) => Record<string, string>;
}

async function scene(name: string, appLabels?: Record<string, string>): Promise<Scene> {
  const lego = await createNamespace(`${name}-lego`);
  const app = await createNamespace(`${name}-app`, appLabels);
  return { lego, app, env: (extra = {}) => jobEnv(lego, { LEGO_WATCH_NAMESPACE: app, ...extra }) };
}

/** What listens on Pebble's HTTP-01 port right now; stopped before the next test takes it. */
let onValidationPort: { stop: () => Promise<void> } | undefined;

async function freeValidationPort(): Promise<void> {
  await onValidationPort?.stop();
  onValidationPort = undefined;
}

async function responderOn(lego: string, kubeconfig?: string): Promise<ResponderProcess> {
  await freeValidationPort();
  const responder = await startResponderProcess({
    namespace: lego,
    port: testEnv().pebble.httpPort,
    host: '127.0.0.1',
    ...(kubeconfig ? { kubeconfig } : {}),
  });
  onValidationPort = {
    stop: async () => {
      await responder.stop();
    },
  };
  return responder;
}

/** An HTTP server on Pebble's validation port that answers every request with `body`. */
async function wrongBodyServer(body: string): Promise<{ paths: string[] }> {
  await freeValidationPort();
  const paths: string[] = [];
  const server: Server = createServer((request, response) => {
    paths.push(request.url ?? '');
    response.end(body);
  });
  await new Promise<void>((resolve) =>
    server.listen(testEnv().pebble.httpPort, '127.0.0.1', resolve),
  );
  onValidationPort = {
    stop: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
  return { paths };
}

/** A TCP server that accepts connections and never answers; counts them. */
async function silentServer(
  port = 0,
): Promise<{ port: number; connections: () => number; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: TcpServer = createTcpServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    port: address.port,
    connections: () => accepted,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

async function statusOf(core: CoreV1Api, lego: string) {
  const cm = await core.readNamespacedConfigMap({ namespace: lego, name: 'kube-lego-status' });
  return decodeStatus(cm.data);
}

async function challengeTokens(core: CoreV1Api, lego: string): Promise<string[]> {
  const cm = await core
    .readNamespacedConfigMap({ namespace: lego, name: 'kube-lego-challenges' })
    .catch(() => undefined);
  return Object.keys(cm?.data ?? {});
}

function logged(result: JobResult, msg: string): Record<string, unknown>[] {
  return result.logs.filter((l) => l.msg === msg);
}

/** Resolves `host` to an address where nothing listens, so Pebble's validation fails. */
async function unreachable(host: string, address: string): Promise<void> {
  const response = await fetch(`${testEnv().challtestsrv.managementUrl}/add-a`, {
    method: 'POST',
    body: JSON.stringify({ host, addresses: [address] }),
  });
  assert.ok(response.ok);
}

after(async () => {
  await freeValidationPort();
});

describe('1. never obtain a certificate that cannot be stored', () => {
  /** A ValidatingAdmissionPolicy denying Secret writes in namespaces labelled `policy=<name>`. */
  async function denySecretWrites(name: string, expression: string): Promise<void> {
    await admission.createValidatingAdmissionPolicy({
      body: {
        metadata: { name },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: [''],
                apiVersions: ['v1'],
                operations: ['CREATE', 'UPDATE'],
                resources: ['secrets'],
              },
            ],
          },
          validations: [{ expression, message: `Secret writes are denied by ${name}` }],
        },
      },
    });
    await admission.createValidatingAdmissionPolicyBinding({
      body: {
        metadata: { name },
        spec: {
          policyName: name,
          validationActions: ['Deny'],
          matchResources: { namespaceSelector: { matchLabels: { policy: name } } },
        },
      },
    });
  }

  async function removePolicy(name: string): Promise<void> {
    await admission.deleteValidatingAdmissionPolicyBinding({ name });
    await admission.deleteValidatingAdmissionPolicy({ name });
  }

  /**
   * Waits until the API server applies (or no longer applies) the policy to a real write in
   * `namespace`: policies take effect when the API server's informer has seen them. Each probe
   * is an event of its own (an answer); the loop ends on the answer wanted.
   */
  async function untilRealWritesAre(namespace: string, refused: boolean): Promise<void> {
    for (let i = 0; ; i++) {
      const name = `probe-${i}`;
      const outcome = await core
        .createNamespacedSecret({
          namespace,
          body: { metadata: { name }, type: 'Opaque', stringData: { x: 'y' } },
        })
        .then(
          () => 'accepted',
          (error: unknown) => {
            const code = (error as { code?: number }).code;
            return code === 422 || code === 403 ? 'refused' : 'other';
          },
        );
      if (outcome === 'accepted') await core.deleteNamespacedSecret({ namespace, name });
      if ((outcome === 'refused') === refused) return;
      assert.ok(i < 300, 'the admission policy never took effect');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  test('a refused Secret write is caught by the dry run: no order at all, SecretWriteRefused, back-off', async () => {
    const policy = `deny-all-${Date.now().toString(36)}`;
    const s = await scene('refused', { policy });
    await denySecretWrites(policy, 'false');
    try {
      await untilRealWritesAre(s.app, true);
      await networking.createNamespacedIngress({
        namespace: s.app,
        body: annotatedIngress('guarded', [
          { hosts: ['guarded.example.com'], secretName: 'guarded-tls' },
        ]),
      });
      await responderOn(s.lego);
      const orders: number[] = [];
      const attempts: number[] = [];
      for (let hour = 0; hour < 6; hour++) {
        const result = await runJob(s.env(at(hour)));
        assertExit(result, 0);
        orders.push(logged(result, 'certificate obtained; storing it').length);
        if (logged(result, 'issuing certificate').length > 0) attempts.push(hour);
        if (hour === 0) {
          const failure = logged(result, 'certificate could not be obtained')[0];
          assert.equal(failure?.reason, 'SecretWriteRefused', JSON.stringify(failure));
          assert.match(String(failure?.error), new RegExp(`denied by ${policy}`));
          assert.equal(result.summary?.acmeRequests, 0, 'not even an account request');
        }
      }
      assert.deepEqual(orders, [0, 0, 0, 0, 0, 0], 'Pebble issued nothing');
      const recorded = (await statusOf(core, s.lego)).certificates.find(
        (c) => c.secretName === 'guarded-tls',
      );
      assert.deepEqual(attempts, [0, 1, 3], 'backs off like other failures: 1h, then 2h');
      assert.equal(recorded?.failures, 3);
    } finally {
      await removePolicy(policy);
    }
    await untilRealWritesAre(s.app, false);
    const fixed = await runJob(s.env(at(72)));
    assertExit(fixed, 0);
    await assertValidTlsSecret(await readSecret(s.app, 'guarded-tls'), ['guarded.example.com']);
  });

  test('a write refused only for real (the dry run passes): one certificate, kept, installed once the policy is gone', async () => {
    const policy = `deny-real-${Date.now().toString(36)}`;
    const s = await scene('kept', { policy });
    // Refuses real writes only, as a webhook that ignores dry runs or a quota race would.
    await denySecretWrites(policy, 'request.dryRun == true');
    try {
      await untilRealWritesAre(s.app, true);
      await networking.createNamespacedIngress({
        namespace: s.app,
        body: annotatedIngress('kept', [{ hosts: ['kept.example.com'], secretName: 'kept-tls' }]),
      });
      await responderOn(s.lego);
      let obtained = 0;
      for (let hour = 0; hour < 8; hour++) {
        const result = await runJob(s.env(at(hour)));
        assertExit(result, 0);
        obtained += logged(result, 'certificate obtained; storing it').length;
        if (hour === 0)
          assert.equal(
            logged(result, 'certificate obtained but not stored; kept for a later run to install')
              .length,
            1,
          );
        else
          assert.equal(
            result.summary?.acmeRequests,
            0,
            `run ${hour}: no ACME request, the kept certificate is retried`,
          );
      }
      assert.equal(obtained, 1, 'Pebble issued one certificate for these names over 8 runs');
      const kept = decodeKept((await readSecret(s.lego, KEPT_SECRET_NAME))?.data);
      assert.deepEqual(
        kept.entries.map((k) => [k.namespace, k.secretName, k.hosts]),
        [[s.app, 'kept-tls', ['kept.example.com']]],
      );
      assert.equal(await readSecret(s.app, 'kept-tls'), undefined);
    } finally {
      await removePolicy(policy);
    }
    await untilRealWritesAre(s.app, false);
    const installed = await runJob(s.env(at(9)));
    assertExit(installed, 0);
    assert.equal(installed.summary?.acmeRequests, 0, 'installed without a new order');
    assert.equal(logged(installed, 'installed a kept certificate instead of ordering').length, 1);
    await assertValidTlsSecret(await readSecret(s.app, 'kept-tls'), ['kept.example.com']);
    const left = decodeKept((await readSecret(s.lego, KEPT_SECRET_NAME))?.data);
    assert.deepEqual(left.entries, [], 'removed once installed');
  });
});

describe('1b. the API server gone between download and write', () => {
  let server: KubeOnly | undefined;
  after(async () => {
    await server?.stop();
  });

  test('the run stops (KubeApiUnavailable); once the API server is back, the next run installs that certificate with no new order', async () => {
    server = await startKubeApiServer();
    const privateConfig = new KubeConfig();
    privateConfig.loadFromFile(server.kubeconfig);
    const privateCore = privateConfig.makeApiClient(CoreV1Api);
    const privateNetworking = privateConfig.makeApiClient(NetworkingV1Api);
    for (const name of ['gone-lego', 'gone-app'])
      await privateCore.createNamespace({ body: { metadata: { name } } });
    await privateNetworking.createNamespacedIngress({
      namespace: 'gone-app',
      body: annotatedIngress('gone', [{ hosts: ['gone.example.com'], secretName: 'gone-tls' }]),
    });
    await responderOn('gone-lego', server.kubeconfig);
    const env = {
      ...jobEnv('gone-lego', { LEGO_WATCH_NAMESPACE: 'gone-app' }),
      KUBECONFIG: server.kubeconfig,
      LEGO_KUBE_TIMEOUT: '2s',
      LEGO_LEASE_DURATION: '6s',
    };
    const job = startJob({
      ...env,
      KUBE_LEGO_TEST_HOOKS: 'enabled',
      KUBE_LEGO_TEST_PAUSE: 'before-store',
    });
    // Downloaded, not yet stored: the job waits here for SIGUSR2.
    const obtained = await job.waitForLog((l) => l.msg === 'certificate obtained; storing it');
    await job.waitForLog((l) => l.msg === PAUSED_MESSAGE && l.point === 'before-store');
    await server.stopApiServer();
    job.kill(RESUME_SIGNAL);
    const failed = await job.result;
    assert.notEqual(failed.code, null, 'the job ended on its own, it was not killed');
    assert.notEqual(failed.code, 0, 'a run without its API server did not work');
    const stopped = logged(failed, 'run stopped: no further certificate is ordered in this run');
    assert.equal(stopped.length, 1, failed.stderr.slice(-3000));
    assert.equal(stopped[0]?.reason, 'KubeApiUnavailable');
    assert.equal(
      logged(
        failed,
        'certificate obtained but neither stored nor kept; the next run downloads it again from its order',
      ).length,
      1,
    );
    assert.equal(logged(failed, 'order created').length, 1);

    await server.startApiServer();
    // The order (URL and key, no chain) was recorded before finalization.
    const recorded = decodeKept(
      (await privateCore.readNamespacedSecret({ namespace: 'gone-lego', name: KEPT_SECRET_NAME }))
        .data,
    );
    assert.equal(recorded.entries.length, 1);
    assert.ok(recorded.entries[0]?.orderUrl, 'the order URL is kept');
    assert.equal(recorded.entries[0]?.certificatePem, undefined, 'the chain was never kept');

    let next = await runJob(env);
    // The stopped run could not release its Lease: the next run takes it over once it expires,
    // at the instant the Lease names.
    const held = logged(next, 'another run is working; exiting without doing anything')[0];
    if (held) {
      await sleep(Math.max(0, Date.parse(String(held.expiresAt)) - Date.now()) + 200);
      next = await runJob(env);
    }
    assertExit(next, 0);
    assert.equal(logged(next, 'order created').length, 0, 'no new order');
    assert.equal(
      logged(next, 'downloaded the certificate of a kept order instead of ordering').length,
      1,
    );
    assert.equal(next.summary?.issued, 1);
    const secret = await privateCore.readNamespacedSecret({
      namespace: 'gone-app',
      name: 'gone-tls',
    });
    await assertValidTlsSecret(secret, ['gone.example.com']);
    // The very certificate the first run downloaded: the same serial, so Pebble issued no other.
    const leaf = new X509Certificate(
      Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64').toString(),
    );
    assert.equal(leaf.serialNumber, obtained.serial);
    const left = decodeKept(
      (await privateCore.readNamespacedSecret({ namespace: 'gone-lego', name: KEPT_SECRET_NAME }))
        .data,
    );
    assert.deepEqual(left.entries, [], 'removed once installed');
  });
});

describe('2. bounded time for every Kubernetes call', () => {
  let server: KubeOnly | undefined;
  after(async () => {
    await server?.stop();
  });

  test('a frozen API server (SIGSTOP) ends the run with a message naming the call and the timeout; after SIGCONT the next run succeeds', async () => {
    server = await startKubeApiServer();
    const privateConfig = new KubeConfig();
    privateConfig.loadFromFile(server.kubeconfig);
    const privateCore = privateConfig.makeApiClient(CoreV1Api);
    const privateNetworking = privateConfig.makeApiClient(NetworkingV1Api);
    for (const name of ['frozen-lego', 'frozen-app'])
      await privateCore.createNamespace({ body: { metadata: { name } } });
    await privateNetworking.createNamespacedIngress({
      namespace: 'frozen-app',
      body: annotatedIngress('frozen', [
        { hosts: ['frozen.example.com'], secretName: 'frozen-tls' },
      ]),
    });
    // No responder yet: the route preflight keeps the run busy while the API server is frozen.
    await freeValidationPort();
    const env = {
      ...jobEnv('frozen-lego', { LEGO_WATCH_NAMESPACE: 'frozen-app' }),
      KUBECONFIG: server.kubeconfig,
      LEGO_KUBE_TIMEOUT: '2s',
      LEGO_LEASE_DURATION: '6s',
      LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '2s',
    };
    const job = startJob(env, [], 90_000);
    await job.waitForLog((l) => l.msg === 'route probes published');
    server.signalApiServer('SIGSTOP');
    let result: JobResult;
    try {
      result = await job.result;
    } finally {
      server.signalApiServer('SIGCONT');
    }
    assert.notEqual(result.code, null, 'the job ended on its own, it was not killed');
    assert.notEqual(result.code, 0);
    // The call is named (method and path) with the limit and the setting.
    assert.match(
      result.stderr,
      /(GET|PUT|PATCH|POST|DELETE) \/\S+: no answer within 2s \(LEGO_KUBE_TIMEOUT\)/,
    );

    await responderOn('frozen-lego', server.kubeconfig);
    const nextEnv = { ...env, LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '10s' };
    let next = await runJob(nextEnv);
    // The frozen run could not release its Lease (the API server did not answer): the next run
    // takes it over once it expires, at the instant the Lease names.
    const held = logged(next, 'another run is working; exiting without doing anything')[0];
    if (held) {
      await sleep(Math.max(0, Date.parse(String(held.expiresAt)) - Date.now()) + 200);
      next = await runJob(nextEnv);
    }
    assertExit(next, 0);
    assert.equal(next.summary?.issued, 1);
    const secret = await privateCore.readNamespacedSecret({
      namespace: 'frozen-app',
      name: 'frozen-tls',
    });
    await assertValidTlsSecret(secret, ['frozen.example.com']);
  });
});

describe('3. a failure of the whole run is charged to the run, once', () => {
  const hosts = ['one', 'two', 'three', 'four', 'five'].map((h) => `${h}.run.example.com`);

  async function fiveDue(name: string): Promise<Scene> {
    const s = await scene(name);
    for (const [i, host] of hosts.entries()) {
      await networking.createNamespacedIngress({
        namespace: s.app,
        body: annotatedIngress(`site-${i}`, [{ hosts: [host], secretName: `site-${i}-tls` }]),
      });
    }
    return s;
  }

  async function assertChargedToTheRun(s: Scene, result: JobResult): Promise<void> {
    assertExit(result, 1);
    assert.equal(
      logged(result, 'run stopped: no further certificate is ordered in this run').length,
      1,
    );
    assert.equal(logged(result, 'certificate could not be obtained').length, 0);
    assert.equal(logged(result, 'issuing certificate').length, 1, 'one attempt, not five');
    const recorded = await statusOf(core, s.lego);
    assert.equal(recorded.run?.result, 'Failed');
    assert.equal(recorded.run?.reason, 'AcmeUnavailable');
    assert.equal(recorded.certificates.length, 5);
    for (const c of recorded.certificates) {
      assert.equal(c.failures, 0, `${c.secretName}: no failure counted`);
      assert.equal(c.retryAfter, undefined, `${c.secretName}: no back-off`);
      assert.equal(c.reason, 'AcmeUnavailable');
    }
  }

  test('LEGO_URL on a closed port, then a server that never answers; then the real one issues all five', async () => {
    const s = await fiveDue('acmegone');
    // The routes work (the route preflight passes): what fails is the ACME server.
    await responderOn(s.lego);
    const closed = await silentServer();
    await closed.stop();
    const refused = await runJob(s.env({ LEGO_URL: `https://127.0.0.1:${closed.port}/dir` }));
    await assertChargedToTheRun(s, refused);

    const silent = await silentServer();
    try {
      const hung = await runJob(
        s.env({ LEGO_URL: `https://127.0.0.1:${silent.port}/dir`, LEGO_ACME_TIMEOUT: '1s' }),
      );
      await assertChargedToTheRun(s, hung);
      // One request and its two quick retries (jobs/acme/acme-http.ts), for one certificate.
      assert.ok(silent.connections() <= 3, `${silent.connections()} connections`);
    } finally {
      await silent.stop();
    }

    const working = await runJob(s.env());
    assertExit(working, 0);
    assert.equal(working.summary?.issued, 5);
    for (const [i, host] of hosts.entries())
      await assertValidTlsSecret(await readSecret(s.app, `site-${i}-tls`), [host]);
  });
});

describe('4. stop cleanly on SIGTERM', () => {
  async function assertStoppedCleanly(s: Scene, result: JobResult): Promise<void> {
    assertExit(result, 3);
    assert.ok(
      logged(result, 'stopped by SIGTERM: the run did not finish').length === 1,
      result.stderr.slice(-3000),
    );
    assert.deepEqual(await challengeTokens(core, s.lego), [], 'no token left');
    await assert.rejects(
      networking.readNamespacedIngress({ namespace: s.lego, name: 'kube-lego-nginx' }),
      { code: 404 },
    );
    const recorded = await statusOf(core, s.lego);
    assert.equal(recorded.run?.reason, 'Stopped');
    const entry = recorded.certificates[0];
    assert.equal(entry?.reason, 'Stopped');
    assert.equal(entry.failures, 0, 'a stop is not the certificate’s failure');
    const lease = await coordination.readNamespacedLease({ namespace: s.lego, name: 'kube-lego' });
    assert.equal(lease.spec?.holderIdentity, undefined, 'the Lease is free');
  }

  async function assertNextRunTakesTheLease(s: Scene): Promise<void> {
    await responderOn(s.lego);
    const next = await runJob(s.env());
    assertExit(next, 0);
    assert.equal(logged(next, 'another run is working; exiting without doing anything').length, 0);
    assert.equal(next.summary?.issued, 1);
  }

  test('during the route preflight (the self-check of its probe)', async () => {
    const s = await scene('termcheck');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('term', [{ hosts: ['term.example.com'], secretName: 'term-tls' }]),
    });
    await freeValidationPort();
    const job = startJob(
      s.env({ LEGO_STOP_GRACE_PERIOD: '1s', LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '600s' }),
    );
    await job.waitForLog((l) => l.msg === 'challenge not served yet' && l.probe === true);
    job.kill('SIGTERM');
    const result = await job.result;
    await assertStoppedCleanly(s, result);
    assert.equal(result.summary?.acmeRequests, 0, 'stopped before any order');
    await assertNextRunTakesTheLease(s);
  });

  test('during validation', async () => {
    const s = await scene('termvalid');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('term', [{ hosts: ['termv.example.com'], secretName: 'term-tls' }]),
    });
    // Pebble's validation request is accepted and never answered: validation hangs.
    await freeValidationPort();
    const silent = await silentServer(testEnv().pebble.httpPort);
    onValidationPort = { stop: silent.stop };
    const job = startJob(
      s.env({ LEGO_STOP_GRACE_PERIOD: '1s', LEGO_SELF_CHECK: 'false', LEGO_SELF_CHECK_WAIT: '0s' }),
    );
    await job.waitForLog((l) => l.msg === 'validation requested');
    job.kill('SIGTERM');
    await assertStoppedCleanly(s, await job.result);
    await assertNextRunTakesTheLease(s);
  });
});

describe('5. no key authorization in logs, Events or status', () => {
  test('a validation server answering the wrong body: the failure is reported without the key authorization or token', async () => {
    const s = await scene('redact');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('redact', [
        { hosts: ['redact.example.com'], secretName: 'redact-tls' },
      ]),
    });
    const validation = await wrongBodyServer('not-the-key-authorization');
    const result = await runJob(s.env({ LEGO_SELF_CHECK: 'false', LEGO_SELF_CHECK_WAIT: '0s' }));
    assertExit(result, 0);
    const failure = logged(result, 'certificate could not be obtained')[0];
    assert.equal(failure?.reason, 'AcmeUnauthorized', JSON.stringify(failure));
    assert.match(
      String(failure.error),
      /<key authorization>/,
      'the message says what was expected, redacted',
    );

    // The token Pebble asked for, and its key authorization for the job's account.
    const path = validation.paths.find((p) => p.startsWith('/.well-known/acme-challenge/'));
    assert.ok(path, 'Pebble asked the validation server');
    const token = path.slice('/.well-known/acme-challenge/'.length);
    const account = parseAccountSecret((await readSecret(s.lego, 'kube-lego-account'))?.data)
      .accounts[0]!;
    const client = new acme.Client({
      directoryUrl: account.directoryUrl,
      accountKey: account.privateKeyPem,
    });
    const keyAuthorization = await client.getChallengeKeyAuthorization({
      type: 'http-01',
      token,
      url: '',
      status: 'invalid',
    });
    assert.ok(keyAuthorization.startsWith(`${token}.`));

    const events = await core.listNamespacedEvent({ namespace: s.app });
    const status = await core.readNamespacedConfigMap({
      namespace: s.lego,
      name: 'kube-lego-status',
    });
    const places = {
      output: result.stdout + result.stderr,
      events: JSON.stringify(events.items.map((e) => e.message)),
      status: JSON.stringify(status.data),
    };
    assert.ok(
      places.events.includes('IssuanceFailed') ||
        events.items.some((e) => e.reason === 'IssuanceFailed'),
    );
    for (const [where, text] of Object.entries(places)) {
      assert.ok(!text.includes(keyAuthorization), `no key authorization in ${where}`);
      assert.ok(!text.includes(token), `no token in ${where}`);
    }
  });
});

describe('6. a clock the tests can move', () => {
  test('a broken domain over 24 simulated hourly runs orders at most 6 times', async () => {
    const s = await scene('broken');
    await unreachable('broken.day.example.com', '127.0.0.5');
    await networking.createNamespacedIngress({
      namespace: s.app,
      body: annotatedIngress('broken', [
        { hosts: ['broken.day.example.com'], secretName: 'broken-tls' },
      ]),
    });
    await freeValidationPort();
    const orderedAt: number[] = [];
    for (let hour = 0; hour < 24; hour++) {
      const result = await runJob(
        s.env({ ...at(hour), LEGO_SELF_CHECK: 'false', LEGO_SELF_CHECK_WAIT: '0s' }),
      );
      assertExit(result, 0);
      if (logged(result, 'issuing certificate').length > 0) orderedAt.push(hour);
    }
    assert.ok(orderedAt.length <= 6, `ordered at hours ${orderedAt.join(', ')}`);
    // Back-off 1h, 2h, 4h, 8h, 16h after each failure (docs/design.md).
    assert.deepEqual(orderedAt, [0, 1, 3, 7, 15]);
  });

  test('the clock offset is refused unless test hooks are enabled', async () => {
    const result = await runJob({ KUBE_LEGO_TEST_CLOCK_OFFSET: '5h' });
    assertExit(result, 2);
    assert.match(
      result.stderr,
      /KUBE_LEGO_TEST_CLOCK_OFFSET="5h" is not valid: expected nothing outside tests/,
    );
  });
});
