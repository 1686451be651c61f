/**
 * Layer: integration. Nonce reuse in the ACME HTTP layer (jobs/acme/acme-http.ts) against
 * Pebble: after the first `HEAD newNonce`, each signed request uses the Replay-Nonce of the
 * response before it (RFC 8555 §6.5, §7.2), so a sequence of k signed requests costs one nonce
 * request instead of k. And the directory is read once per process, by acme-client and our ARI
 * and profile adapters alike. Pebble runs with PEBBLE_WFE_NONCEREJECT=0, so no nonce is refused here.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import acme from 'acme-client';
import {
  acmeDirectoriesReused,
  acmeNoncesReused,
  acmeRequestCount,
  configureAcmeHttp,
} from '../../jobs/acme/acme-http.js';
import { readAcmeDirectory } from '../../jobs/acme/renewal-info.js';
import { testEnv } from '../env/context.js';

test('one HEAD newNonce for a sequence of signed requests', async () => {
  configureAcmeHttp({ timeoutMs: 60_000 });
  const accountKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const requests = acmeRequestCount();
  const reused = acmeNoncesReused();
  const client = new acme.Client({ directoryUrl: testEnv().pebble.directoryUrl, accountKey });
  await client.createAccount({ termsOfServiceAgreed: true });
  const order = await client.createOrder({
    identifiers: [{ type: 'dns', value: 'nonce.example.com' }],
    profile: 'default',
  } as Parameters<typeof client.createOrder>[0]);
  const authorizations = await client.getAuthorizations(order);
  assert.equal(authorizations.length, 1);
  // GET directory, HEAD newNonce, POST newAccount, POST newOrder, POST-as-GET authorization.
  assert.equal(acmeRequestCount() - requests, 5);
  assert.equal(acmeNoncesReused() - reused, 2, 'newOrder and the authorization reused nonces');
  await client.deactivateAuthorization(authorizations[0]!);
  assert.equal(acmeRequestCount() - requests, 6, 'the next signed request needs no HEAD either');
});

test('the directory is read once, whoever reads it after that', async () => {
  const directoryUrl = testEnv().pebble.directoryUrl;
  configureAcmeHttp({ timeoutMs: 60_000, directoryUrl });
  const requests = acmeRequestCount();
  const reused = acmeDirectoriesReused();
  const first = await readAcmeDirectory(directoryUrl);
  assert.equal(typeof first.newOrder, 'string', 'a directory');
  assert.equal(acmeRequestCount() - requests, 1, 'the first read goes to the server');
  // acme-client's own read (http.js getDirectory), through a client that has not read it yet.
  const accountKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const client = new acme.Client({ directoryUrl, accountKey });
  assert.equal(
    await client.getTermsOfServiceUrl(),
    (first.meta as { termsOfService?: string } | undefined)?.termsOfService ?? null,
  );
  const again = await readAcmeDirectory(directoryUrl);
  assert.deepEqual(again, first, 'the same directory, parsed afresh');
  assert.notEqual(again, first);
  assert.equal(acmeRequestCount() - requests, 1, 'no second GET of the directory');
  assert.equal(acmeDirectoriesReused() - reused, 2);
});
