/**
 * Layer: e2e. A self-signed placeholder (valid a year, for the right host, with its key) in the
 * Secret of an annotated Ingress is replaced at once by a certificate from Pebble (`SelfSigned`),
 * with the job and the responder as their own processes; the next run keeps the new one.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import forge from 'node-forge';
import { adminKubeConfig, createNamespace } from '../env/context.js';
import { assertValidTlsSecret, readSecret } from '../support/certificates.js';
import { annotatedIngress } from '../support/fixtures.js';
import { jobEnv, runJob } from '../support/job-process.js';
import { startPebbleResponder, stopPebbleResponder } from '../support/pebble-responder.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const networking = kc.makeApiClient(NetworkingV1Api);
const HOST = 'placeholder.example.com';

/** The kind of certificate a chart writes before any CA has issued one. */
function selfSignedPlaceholder(host: string): { crt: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(
    publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );
  cert.serialNumber = '01' + forge.util.bytesToHex(forge.random.getBytesSync(8));
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600_000);
  const name = [{ name: 'commonName', value: host }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 2, value: host }] }]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { crt: forge.pki.certificateToPem(cert), key: keyPem };
}

let lego: string;
let app: string;

before(async () => {
  lego = await createNamespace('selfsigned-lego');
  app = await createNamespace('selfsigned-app');
  await startPebbleResponder(lego);
  const placeholder = selfSignedPlaceholder(HOST);
  await core.createNamespacedSecret({
    namespace: app,
    body: {
      metadata: { name: 'placeholder-tls' },
      type: 'kubernetes.io/tls',
      stringData: { 'tls.crt': placeholder.crt, 'tls.key': placeholder.key },
    },
  });
  await networking.createNamespacedIngress({
    namespace: app,
    body: annotatedIngress('placeholder', [{ hosts: [HOST], secretName: 'placeholder-tls' }]),
  });
});

after(stopPebbleResponder);

test('a valid self-signed certificate for the right hosts is re-issued by Pebble', async () => {
  const env = jobEnv(lego, { LEGO_WATCH_NAMESPACE: app });
  const first = await runJob(env);
  assert.equal(first.code, 0, first.stderr.slice(-4000));
  const decision = first.logs.find(
    (l) => l.decision !== undefined && l.secret === 'placeholder-tls',
  );
  assert.equal(decision?.reason, 'SelfSigned', JSON.stringify(decision));
  assert.match(String(decision.message), /is self-signed/);
  const leaf = await assertValidTlsSecret(await readSecret(app, 'placeholder-tls'), [HOST]);
  assert.notEqual(leaf.issuer, leaf.subject, 'issued by Pebble, not by itself');

  const second = await runJob(env);
  assert.equal(second.code, 0, second.stderr.slice(-4000));
  const kept = second.logs.find((l) => l.decision !== undefined && l.secret === 'placeholder-tls');
  assert.equal(kept?.reason, 'UpToDate');
  assert.equal(
    second.summary?.acmeRequests,
    2,
    'no order: the renewal-information ask about the new certificate (the directory and one GET)',
  );
});
