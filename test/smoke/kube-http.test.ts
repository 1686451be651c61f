/**
 * Layer: integration. The job's Kubernetes client (shared/kube/kube-http.ts) against the real
 * apiserver: one keep-alive connection for a series of requests, the API's Status turned into a
 * KubeApiError, lists paged with `continue`, an exec-plugin kubeconfig authenticated by
 * client-node (shared/kube/delegated-endpoint.ts); and against a server that never answers, one
 * time-out after which nothing more is sent.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Agent as HttpAgent, type Server } from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { KubeApiError } from '../../shared/errors.js';
import { kubeCall } from '../../jobs/kube/kube-call.js';
import { DelegatedKubeAuthError, loadKubeConnection } from '../../shared/kube/kube-connection.js';
import { delegatedEndpoint } from '../../shared/kube/delegated-endpoint.js';
import { endpointFromConnection } from '../../shared/kube/kube-endpoint.js';
import { KubeHttp } from '../../shared/kube/kube-http.js';
import { CONFIGMAPS, SECRETS } from '../../shared/kube/kube-resources.js';
import { KubeRequestTimeoutError } from '../../shared/kube/request-timeout.js';
import { adminKubeConfig, createNamespace, testEnv } from '../env/context.js';

const dir = mkdtempSync(join(tmpdir(), 'kube-http-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function adminClient(options: { pageSize?: number } = {}) {
  const connection = await loadKubeConnection({ env: { KUBECONFIG: testEnv().kubeconfig } });
  return new KubeHttp(endpointFromConnection(connection), { timeoutMs: 30_000, ...options });
}

test('ten API requests share one connection', async () => {
  const kube = await adminClient();
  let sockets = 0;
  // Every connection an https.Agent opens goes through its createConnection (Node's own code).
  const prototype = https.Agent.prototype as unknown as {
    createConnection: (this: https.Agent, ...args: unknown[]) => unknown;
  };
  const original = prototype.createConnection;
  prototype.createConnection = function (this: https.Agent, ...args: unknown[]) {
    sockets++;
    return original.apply(this, args);
  };
  try {
    for (let i = 0; i < 10; i++) {
      await kube.send({ method: 'GET', path: '/api/v1/namespaces', query: { limit: 1 } });
    }
  } finally {
    prototype.createConnection = original;
  }
  assert.equal(sockets, 1, 'one connection for ten sequential requests');
  assert.equal(kube.requests(), 10);
});

test('an answer other than 2xx is a KubeApiError with the Status reason, renamed by kubeCall', async () => {
  const kube = await adminClient();
  const namespace = await createNamespace('kube-http-404');
  const error = await kube.get(SECRETS, namespace, 'absent').then(
    () => assert.fail('a missing Secret was found'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof KubeApiError);
  assert.equal(error.status, 404);
  assert.equal(error.reason, 'NotFound');
  assert.equal(error.operation, `GET /api/v1/namespaces/${namespace}/secrets/absent`);
  assert.match(error.detail, /secrets "absent" not found/);
  const renamed = await kubeCall('get Secret x', () => kube.get(SECRETS, namespace, 'absent')).then(
    () => assert.fail('found'),
    (e: unknown) => e,
  );
  assert.ok(renamed instanceof KubeApiError);
  assert.match(renamed.message, /^get Secret x: HTTP 404 NotFound: secrets "absent" not found/);
  assert.ok(renamed.cause instanceof KubeApiError, 'the transport error is the cause');
});

test('a list follows continue to the end, converting each item', async () => {
  const namespace = await createNamespace('kube-http-list');
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  for (let i = 0; i < 5; i++) {
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: `cm-${i}`, labels: { page: 'yes' } }, data: { i: String(i) } },
    });
  }
  const kube = await adminClient({ pageSize: 2 });
  const names = await kube.list<{ metadata?: { name?: string } }, string | undefined>(
    CONFIGMAPS,
    namespace,
    { labelSelector: 'page=yes' },
    (item) => item.metadata?.name,
  );
  assert.deepEqual(names.sort(), ['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4']);
  assert.equal(kube.requests(), 3, 'pages of 2, 2 and 1');
});

test('an exec-plugin kubeconfig is left to client-node, and its requests go through KubeHttp', async () => {
  // The admin kubeconfig (JSON) with its client certificate handed out by an exec plugin, as
  // cloud providers' helpers do (client.authentication.k8s.io/v1 ExecCredential).
  const admin = JSON.parse(readFileSync(testEnv().kubeconfig, 'utf8')) as {
    users: { name: string; user: Record<string, string> }[];
  };
  const user = admin.users[0]!.user;
  const credential = {
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status: {
      clientCertificateData: Buffer.from(user['client-certificate-data']!, 'base64').toString(),
      clientKeyData: Buffer.from(user['client-key-data']!, 'base64').toString(),
    },
  };
  const credentialFile = join(dir, 'credential.json');
  writeFileSync(credentialFile, JSON.stringify(credential));
  admin.users[0]!.user = {
    exec: {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: process.execPath,
      args: [
        '-e',
        `process.stdout.write(require('fs').readFileSync(${JSON.stringify(credentialFile)}))`,
      ],
      interactiveMode: 'Never',
    },
  } as unknown as Record<string, string>;
  const file = join(dir, 'exec-kubeconfig.json');
  writeFileSync(file, JSON.stringify(admin));
  await assert.rejects(
    loadKubeConnection({ env: { KUBECONFIG: file } }),
    (error: unknown) => error instanceof DelegatedKubeAuthError,
  );
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = file;
  let kube: KubeHttp;
  try {
    kube = new KubeHttp(await delegatedEndpoint('an exec plugin'), { timeoutMs: 30_000 });
  } finally {
    process.env.KUBECONFIG = saved;
  }
  const namespace = await createNamespace('kube-http-exec');
  await kube.create(CONFIGMAPS, namespace, { metadata: { name: 'by-exec' } });
  const read = await kube.get<{ metadata?: { name?: string } }>(CONFIGMAPS, namespace, 'by-exec');
  assert.equal(read.metadata?.name, 'by-exec');
});

test('a server that does not answer: one time-out, then nothing more is sent', async (t) => {
  const held: import('node:http').ServerResponse[] = [];
  let received = 0;
  const server: Server = createServer((_request, response) => {
    received++;
    held.push(response); // never answered
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const response of held) response.destroy();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const kube = new KubeHttp(
    {
      server: `http://127.0.0.1:${port}`,
      agent: new HttpAgent({ keepAlive: true }),
      headers: () => Promise.resolve({}),
      namespace: undefined,
    },
    { timeoutMs: 300 },
  );
  const first = await kube.get(SECRETS, 'ns', 'a').then(
    () => assert.fail('answered'),
    (e: unknown) => e,
  );
  assert.ok(first instanceof KubeApiError);
  assert.equal(first.status, undefined);
  assert.equal(first.reason, 'Timeout');
  assert.ok(first.cause instanceof KubeRequestTimeoutError);
  assert.equal(first.cause.notSent, false);
  const second = await kube.get(SECRETS, 'ns', 'b').then(
    () => assert.fail('answered'),
    (e: unknown) => e,
  );
  assert.ok(second instanceof KubeApiError);
  assert.ok(second.cause instanceof KubeRequestTimeoutError);
  assert.equal(second.cause.notSent, true);
  assert.match(
    second.message,
    /not sent: the API server did not answer GET \/api\/v1\/namespaces\/ns\/secrets\/a/,
  );
  assert.equal(received, 1, 'the second request never reached the server');
});
