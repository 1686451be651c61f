/**
 * Layer: integration (smoke). Smoke test: the apiserver is real, and @kubernetes/client-node works against it for the kinds
 * the product uses (Ingress, Secret, ConfigMap), including optimistic concurrency.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ApiException, CoreV1Api, NetworkingV1Api, VersionApi } from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace } from '../env/context.js';

const config = adminKubeConfig();
const core = config.makeApiClient(CoreV1Api);
const networking = config.makeApiClient(NetworkingV1Api);
let namespace: string;

before(async () => {
  namespace = await createNamespace('smoke-kube');
});

test('the apiserver reports the pinned version', async () => {
  const version = await config.makeApiClient(VersionApi).getCode();
  assert.match(version.gitVersion, /^v1\.37\.\d+$/);
  assert.equal(version.major, '1');
  assert.equal(version.minor, '37');
});

test('an Ingress can be created, read, updated and listed', async () => {
  const created = await networking.createNamespacedIngress({
    namespace,
    body: {
      metadata: { name: 'web', annotations: { 'kubernetes.io/tls-acme': 'true' } },
      spec: {
        ingressClassName: 'nginx',
        tls: [{ hosts: ['a.example.com'], secretName: 'web-tls' }],
        rules: [
          {
            host: 'a.example.com',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'web', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    },
  });
  assert.ok(created.metadata?.resourceVersion);
  const read = await networking.readNamespacedIngress({ name: 'web', namespace });
  assert.deepEqual(
    read.spec?.tls?.map((t) => ({ ...t })),
    [{ hosts: ['a.example.com'], secretName: 'web-tls' }],
  );
  read.spec.tls[0]!.hosts!.push('b.example.com');
  const updated = await networking.replaceNamespacedIngress({ name: 'web', namespace, body: read });
  assert.deepEqual(updated.spec?.tls?.[0]?.hosts, ['a.example.com', 'b.example.com']);
  const listed = await networking.listIngressForAllNamespaces({ labelSelector: '', limit: 500 });
  assert.ok(
    listed.items.some((i) => i.metadata?.namespace === namespace && i.metadata.name === 'web'),
  );
});

test('a Secret and a ConfigMap round-trip, and a stale resourceVersion gets 409 Conflict', async () => {
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'web-tls' },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': Buffer.from('x').toString('base64'),
        'tls.key': Buffer.from('y').toString('base64'),
      },
    },
  });
  const secret = await core.readNamespacedSecret({ name: 'web-tls', namespace });
  assert.equal(secret.type, 'kubernetes.io/tls');
  assert.equal(Buffer.from(secret.data!['tls.crt']!, 'base64').toString(), 'x');

  const first = await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'cm' }, data: { a: '1' } },
  });
  const fresh = await core.replaceNamespacedConfigMap({
    name: 'cm',
    namespace,
    body: { ...first, data: { a: '2' } },
  });
  assert.equal(fresh.data?.a, '2');
  const listed = await core.listNamespacedConfigMap({ namespace });
  assert.ok(listed.items.some((c) => c.metadata?.name === 'cm'));
  // `first` still carries the old resourceVersion: the write must be refused.
  await assert.rejects(
    core.replaceNamespacedConfigMap({
      name: 'cm',
      namespace,
      body: { ...first, data: { a: '3' } },
    }),
    (error: unknown) => {
      assert.ok(error instanceof ApiException);
      assert.equal(error.code, 409);
      assert.equal((JSON.parse(error.body as string) as { reason: string }).reason, 'Conflict');
      return true;
    },
  );
  const after = await core.readNamespacedConfigMap({ name: 'cm', namespace });
  assert.equal(after.data?.a, '2');
});
