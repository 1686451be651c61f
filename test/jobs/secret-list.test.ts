/**
 * Layer: integration. The TLS Secret list (jobs/kube/secret-store.ts) against the real
 * kube-apiserver, given the facts the last status recorded: a Secret a record describes comes
 * without its PEMs and with that record, every other one with its PEMs; the first page is asked
 * for before the records are known, and converted once they are.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { parseSecret, recordSecretFacts } from '../../jobs/decide/certificate-facts.js';
import { secretKey, SecretStore, type RecordedSecretFacts } from '../../jobs/kube/secret-store.js';
import { loadKubeConnection } from '../../shared/kube/kube-connection.js';
import { endpointFromConnection } from '../../shared/kube/kube-endpoint.js';
import { KubeHttp } from '../../shared/kube/kube-http.js';
import { SECRETS } from '../../shared/kube/kube-resources.js';
import type { SecretFactsRecord } from '../../shared/secret-facts.js';
import { adminKubeConfig, createNamespace, testEnv } from '../env/context.js';
import { certificate, DAY, keyPem, NOW, at } from '../unit/decide/fixtures.js';

const core = adminKubeConfig().makeApiClient(CoreV1Api);

test('Secrets the last status describes are listed without their PEMs; changed ones with them', async () => {
  const namespace = await createNamespace('secret-list');
  const crt = (host: string) =>
    certificate({ key: 'rsa-a', dnsNames: [host], notBefore: NOW, notAfter: at(90 * DAY) });
  const names = ['same', 'rewritten', 'other-certificate', 'blank-key', 'unrecorded'];
  for (const name of names) {
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name },
        type: 'kubernetes.io/tls',
        stringData: {
          'tls.crt': crt(`${name}.example`),
          'tls.key': name === 'blank-key' ? ' \n' : keyPem('rsa-a'),
        },
      },
    });
  }
  const connection = await loadKubeConnection({ env: { KUBECONFIG: testEnv().kubeconfig } });
  // Pages of two: the records arrive while the list is under way.
  const kube = new KubeHttp(endpointFromConnection(connection), { timeoutMs: 30_000, pageSize: 2 });
  const store = new SecretStore(kube);

  // What a first run records: each Secret parsed (blank-key, whose key cannot be read, gets a
  // record made as if it could, to show the list checks the key as well).
  const first = await store.listTlsSecrets(namespace);
  const record = (name: string): SecretFactsRecord => {
    const view = first.get(secretKey(namespace, name))!;
    assert.equal(view.recorded, undefined, `${name}: no records, so its PEMs`);
    assert.match(view.data['tls.crt'] ?? '', /BEGIN CERTIFICATE/);
    const parsed = parseSecret(view);
    return (
      recordSecretFacts(parsed) ??
      recordSecretFacts(
        parseSecret({ ...view, data: { ...view.data, 'tls.key': keyPem('rsa-a') } }),
      )!
    );
  };
  const records = new Map(names.slice(0, 4).map((name) => [name, record(name)]));
  // Written since: the same content under a new resourceVersion.
  await kube.patch(SECRETS, namespace, 'rewritten', 'merge', {
    metadata: { labels: { touched: 'yes' } },
  });
  records.set('other-certificate', {
    ...records.get('other-certificate')!,
    certificateHash: 'another-hash-000',
  });

  // The records become known only once the first page has been asked for.
  let release: (facts: RecordedSecretFacts) => void = () => undefined;
  const recorded = new Promise<RecordedSecretFacts>((resolve) => (release = resolve));
  const sentBefore = kube.requests();
  const listing = store.listTlsSecrets(namespace, recorded);
  while (kube.requests() === sentBefore) await new Promise((resolve) => setImmediate(resolve));
  release(new Map([...records].map(([name, facts]) => [secretKey(namespace, name), facts])));
  const listed = await listing;

  const view = (name: string) => listed.get(secretKey(namespace, name))!;
  assert.deepEqual(view('same').data, {}, 'unchanged: no PEM kept');
  assert.equal(view('same').recorded, records.get('same'), 'unchanged: the record instead');
  assert.equal(parseSecret(view('same')).source, 'recorded');
  assert.deepEqual(parseSecret(view('same')).facts?.dnsNames, ['same.example']);
  for (const name of ['rewritten', 'other-certificate', 'blank-key', 'unrecorded']) {
    assert.equal(view(name).recorded, undefined, `${name}: not the recorded Secret`);
    assert.match(view(name).data['tls.crt'] ?? '', /BEGIN CERTIFICATE/, `${name}: its PEMs`);
  }
  assert.equal(parseSecret(view('rewritten')).source, 'parsed');
});
