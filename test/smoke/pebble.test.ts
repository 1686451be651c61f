/**
 * Layer: integration (smoke). Smoke test: Pebble is real, and acme-client obtains a two-name certificate from it over
 * HTTP-01, the token served by a throwaway server on Pebble's httpPort; the chain verifies
 * against the root read from Pebble's management port.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import acme from 'acme-client';
import { pebbleRoot, testEnv } from '../env/context.js';

test('acme-client obtains a certificate for two names from Pebble over HTTP-01', async () => {
  const env = testEnv();
  const tokens = new Map<string, string>();
  const seenHosts = new Set<string>();
  const server = createServer((req, res) => {
    const token = req.url?.replace('/.well-known/acme-challenge/', '') ?? '';
    const answer = tokens.get(token);
    seenHosts.add((req.headers.host ?? '').split(':')[0] ?? '');
    res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(env.pebble.httpPort, '127.0.0.1', resolve));
  try {
    const client = new acme.Client({
      directoryUrl: env.pebble.directoryUrl,
      accountKey: await acme.crypto.createPrivateKey(),
    });
    await client.createAccount({
      termsOfServiceAgreed: true,
      contact: ['mailto:smoke@example.com'],
    });
    const names = ['one.smoke.example', 'two.smoke.example'];
    const [key, csr] = await acme.crypto.createCsr({ commonName: names[0], altNames: names });
    const order = await client.createOrder({
      identifiers: names.map((value) => ({ type: 'dns', value })),
      profile: 'default',
    } as Parameters<typeof client.createOrder>[0]);
    const authorizations = await client.getAuthorizations(order);
    for (const authz of authorizations) {
      const challenge = authz.challenges.find((c) => c.type === 'http-01');
      assert.ok(challenge, 'Pebble offers http-01');
      tokens.set(challenge.token, await client.getChallengeKeyAuthorization(challenge));
      await client.completeChallenge(challenge);
      await client.waitForValidStatus(challenge);
    }
    const finalized = await client.finalizeOrder(order, csr);
    const pem = await client.getCertificate(finalized);
    assert.ok(key.length > 0);
    assert.deepEqual([...seenHosts].sort(), names, 'the validator asked for each name');

    const chain = pem
      .split(/(?=-----BEGIN CERTIFICATE-----)/)
      .filter((p) => p.includes('BEGIN CERTIFICATE'))
      .map((p) => new X509Certificate(p));
    assert.ok(chain.length >= 2, 'leaf and intermediate');
    const leaf = chain[0]!;
    assert.deepEqual(
      leaf.subjectAltName
        ?.split(', ')
        .map((s) => s.replace('DNS:', ''))
        .sort(),
      names,
    );
    for (let i = 0; i + 1 < chain.length; i++)
      assert.ok(chain[i]!.verify(chain[i + 1]!.publicKey), `link ${i} verifies`);
    const root = new X509Certificate(await pebbleRoot());
    assert.ok(chain.at(-1)!.verify(root.publicKey), 'chain ends at the Pebble root');
    assert.equal(chain.at(-1)!.issuer, root.subject);
  } finally {
    server.close();
  }
});
