/** Test helpers to inspect what the job stored: chains, names, keys. */
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import { adminKubeConfig, pebbleRoot } from '../env/context.js';

/** The certificates of a PEM chain, leaf first. */
export function parseChain(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (p) => new X509Certificate(p),
  );
}

/** The DNS names of a certificate, sorted. */
export function dnsNames(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(', ')
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4))
    .sort();
}

/** Reads a Secret; undefined when absent. */
export async function readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await adminKubeConfig()
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ namespace, name });
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

/**
 * Asserts that a Secret holds a complete certificate for exactly `hosts`: type kubernetes.io/tls,
 * a chain that verifies link by link up to Pebble's root, and a key that matches the leaf.
 * Returns the leaf.
 */
export async function assertValidTlsSecret(
  secret: V1Secret | undefined,
  hosts: string[],
): Promise<X509Certificate> {
  assert.ok(secret, 'the Secret exists');
  assert.equal(secret.type, 'kubernetes.io/tls');
  const crt = Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64').toString();
  const key = Buffer.from(secret.data?.['tls.key'] ?? '', 'base64').toString();
  const chain = parseChain(crt);
  assert.ok(chain.length >= 2, 'tls.crt holds the full chain');
  const leaf = chain[0]!;
  assert.deepEqual(dnsNames(leaf), [...hosts].sort());
  for (let i = 0; i + 1 < chain.length; i++) assert.ok(chain[i]!.verify(chain[i + 1]!.publicKey));
  const root = new X509Certificate(await pebbleRoot());
  assert.ok(chain.at(-1)!.verify(root.publicKey), 'the chain ends at the Pebble root');
  assert.ok(leaf.checkPrivateKey(createPrivateKey(key)), 'tls.key matches the certificate');
  return leaf;
}
