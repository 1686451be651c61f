/**
 * Layer: integration. Nonce reuse in the ACME HTTP layer (jobs/acme/acme-http.ts) against
 * Pebble: after the first `HEAD newNonce`, each signed request uses the Replay-Nonce of the
 * response before it (RFC 8555 §6.5, §7.2), so a sequence of k signed requests costs one nonce
 * request instead of k. Pebble runs with PEBBLE_WFE_NONCEREJECT=0, so no nonce is refused here.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import acme from 'acme-client';
import {
  acmeNoncesReused,
  acmeRequestCount,
  configureAcmeHttp,
} from '../../jobs/acme/acme-http.js';
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
