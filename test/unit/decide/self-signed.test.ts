/**
 * Layer: unit. The self-signed test behind `SelfSigned` (jobs/decide/certificate-facts.ts
 * `isSelfSigned`, jobs/decide/certificate-checks.ts `certificateIsSelfSigned`), with a CA, its
 * leaf and self-signed certificates made with node-forge here.
 */
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import forge from 'node-forge';
import { certificateIsSelfSigned } from '../../../jobs/decide/certificate-checks.js';
import { isSelfSigned, parseSecret } from '../../../jobs/decide/certificate-facts.js';
import type { SecretView } from '../../../jobs/model.js';
import { DAY, NOW, at, secret } from './fixtures.js';

interface Pair {
  pem: string;
  forge: forge.pki.rsa.PrivateKey;
  public: forge.pki.rsa.PublicKey;
}

function rsaPair(): Pair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return {
    pem,
    forge: forge.pki.privateKeyFromPem(pem),
    public: forge.pki.publicKeyFromPem(
      publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ),
  };
}

function build(options: {
  subject: string;
  issuer: string;
  subjectKey: Pair;
  signer: Pair;
  hosts: string[];
  ca?: boolean;
}): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = options.subjectKey.public;
  cert.serialNumber = '0' + forge.util.bytesToHex(forge.random.getBytesSync(8));
  cert.validity.notBefore = at(-DAY);
  cert.validity.notAfter = at(364 * DAY);
  cert.setSubject([{ name: 'commonName', value: options.subject }]);
  cert.setIssuer([{ name: 'commonName', value: options.issuer }]);
  cert.setExtensions([
    { name: 'basicConstraints', cA: options.ca ?? false },
    ...(options.hosts.length > 0
      ? [{ name: 'subjectAltName', altNames: options.hosts.map((value) => ({ type: 2, value })) }]
      : []),
  ]);
  cert.sign(options.signer.forge, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

const HOSTS = ['app.example'];
const caKey = rsaPair();
const leafKey = rsaPair();
const caPem = build({
  subject: 'Example CA',
  issuer: 'Example CA',
  subjectKey: caKey,
  signer: caKey,
  hosts: [],
  ca: true,
});
const caSigned = build({
  subject: 'app.example',
  issuer: 'Example CA',
  subjectKey: leafKey,
  signer: caKey,
  hosts: HOSTS,
});
const selfSigned = build({
  subject: 'app.example',
  issuer: 'app.example',
  subjectKey: leafKey,
  signer: leafKey,
  hosts: HOSTS,
});
// The issuer's name copies the subject's, but another key signed it: not self-signed.
const sameNameOtherSigner = build({
  subject: 'app.example',
  issuer: 'app.example',
  subjectKey: leafKey,
  signer: caKey,
  hosts: HOSTS,
});
// Signed with its own key under a CA's name: not self-signed either (the issuer name differs).
const ownKeyOtherName = build({
  subject: 'app.example',
  issuer: 'Example CA',
  subjectKey: leafKey,
  signer: leafKey,
  hosts: HOSTS,
});

function secretWith(crt: string): SecretView {
  return secret({
    namespace: 'apps',
    name: 'app-tls',
    data: { 'tls.crt': crt, 'tls.key': leafKey.pem },
  });
}

describe('isSelfSigned', () => {
  test('a self-signed certificate, and a self-signed CA', () => {
    assert.equal(isSelfSigned(new X509Certificate(selfSigned)), true);
    assert.equal(isSelfSigned(new X509Certificate(caPem)), true);
  });

  test('a certificate signed by a CA is not, whatever its name tricks', () => {
    assert.equal(isSelfSigned(new X509Certificate(caSigned)), false);
    assert.equal(isSelfSigned(new X509Certificate(sameNameOtherSigner)), false);
    assert.equal(isSelfSigned(new X509Certificate(ownKeyOtherName)), false);
  });
});

describe('certificateIsSelfSigned', () => {
  test('the self-signed placeholder for the right hosts is re-issued as SelfSigned', () => {
    const parsed = parseSecret(secretWith(selfSigned));
    assert.equal(parsed.facts?.selfSigned, true);
    const violation = certificateIsSelfSigned(
      {
        secret: parsed,
        hosts: HOSTS,
        directoryUrl: 'https://acme.invalid/directory',
        keyPolicy: { keyType: 'rsa', rsaKeySize: 2048 },
        minimumValidityMs: 720 * 3600_000,
      },
      NOW,
    );
    assert.equal(violation?.reason, 'SelfSigned');
    assert.match(violation.message, /apps\/app-tls is self-signed/);
  });

  test('a CA-signed leaf, alone or with its CA in the chain, is not', () => {
    for (const crt of [caSigned, caSigned + caPem]) {
      const parsed = parseSecret(secretWith(crt));
      assert.equal(parsed.facts?.selfSigned, false);
      assert.equal(
        certificateIsSelfSigned(
          {
            secret: parsed,
            hosts: HOSTS,
            directoryUrl: 'https://acme.invalid/directory',
            keyPolicy: { keyType: 'rsa', rsaKeySize: 2048 },
            minimumValidityMs: 720 * 3600_000,
          },
          NOW,
        ),
        undefined,
      );
    }
  });
});
