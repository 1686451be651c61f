/**
 * Test fixtures for the decide layer: keys and certificates made in the test process, with chosen
 * names and validity dates. No files, no network, no openssl.
 *
 * RSA certificates are built and signed by node-forge. node-forge's certificate objects are
 * RSA-only, so EC certificates are built from a forge certificate whose TBSCertificate is
 * re-assembled with the EC public key and signed with node:crypto.
 */
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { DesiredCertificate, SecretView } from '../../../jobs/model.js';
import type { CertificateStatus } from '../../../shared/status-entries.js';

/** The fixed instant every decide test runs at. */
export const NOW = new Date('2025-06-01T00:00:00Z');

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** `NOW` shifted by `ms`. */
export function at(ms: number, from: Date = NOW): Date {
  return new Date(from.getTime() + ms);
}

export type KeyName = 'rsa-a' | 'rsa-b' | 'p256-a' | 'p256-b' | 'p384';

const keys = new Map<KeyName, KeyObject>();

/** A private key, generated once per test process. RSA keys are 2048 bits. */
export function key(name: KeyName): KeyObject {
  let found = keys.get(name);
  if (found === undefined) {
    found = name.startsWith('rsa')
      ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
      : generateKeyPairSync('ec', { namedCurve: name === 'p384' ? 'P-384' : 'P-256' }).privateKey;
    keys.set(name, found);
  }
  return found;
}

/** The PEM of a private key, PKCS#8 unless another encoding is asked for. */
export function keyPem(name: KeyName, encoding: 'pkcs8' | 'legacy' = 'pkcs8'): string {
  const k = key(name);
  const type = encoding === 'pkcs8' ? 'pkcs8' : k.asymmetricKeyType === 'ec' ? 'sec1' : 'pkcs1';
  return k.export({ type, format: 'pem' }) as string;
}

/** The PEM of a private key encrypted with a passphrase (PKCS#8, AES-256-CBC). */
export function encryptedKeyPem(name: KeyName): string {
  return key(name).export({
    type: 'pkcs8',
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase: 'not-given-to-the-job',
  }) as string;
}

export interface CertificateSpec {
  key: KeyName;
  dnsNames: readonly string[];
  /** IP address subjectAltNames (RFC 8738), after the DNS names. */
  ipAddresses?: readonly string[];
  notBefore: Date;
  notAfter: Date;
  commonName?: string;
  /** Marks the certificate as a CA (for chain fixtures). */
  ca?: boolean;
  /**
   * Issuer name = subject name, making the certificate self-signed (`SelfSigned`). Otherwise the
   * issuer is named `kube-lego test CA`, as a CA-issued certificate's would be.
   */
  selfSigned?: boolean;
}

let serial = 1;

/**
 * A PEM certificate with the given SANs and validity, signed with its own key; its issuer name
 * is a CA's unless `spec.selfSigned` (then it is self-signed).
 */
export function certificate(spec: CertificateSpec): string {
  const subject = spec.key;
  const privateKey = key(subject);
  const rsa = privateKey.asymmetricKeyType === 'rsa';
  // forge needs an RSA key in its certificate object; an EC certificate borrows one here and has
  // its SubjectPublicKeyInfo and signature replaced below.
  const forgeKeyName: KeyName = rsa ? subject : 'rsa-a';
  const forgeKey = forge.pki.privateKeyFromPem(keyPem(forgeKeyName, 'legacy'));
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  cert.serialNumber = (serial++).toString(16).padStart(4, '0');
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  const name = [{ name: 'commonName', value: spec.commonName ?? spec.dnsNames[0] ?? 'test' }];
  cert.setSubject(name);
  cert.setIssuer(spec.selfSigned ? name : [{ name: 'commonName', value: 'kube-lego test CA' }]);
  cert.setExtensions([
    { name: 'basicConstraints', cA: spec.ca ?? false },
    ...(spec.dnsNames.length + (spec.ipAddresses?.length ?? 0) > 0
      ? [
          {
            name: 'subjectAltName',
            altNames: [
              ...spec.dnsNames.map((value) => ({ type: 2, value })),
              ...(spec.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
            ],
          },
        ]
      : []),
  ]);
  cert.sign(forgeKey, forge.md.sha256.create());
  if (rsa) return forge.pki.certificateToPem(cert);

  // TBSCertificate ::= SEQUENCE { version, serialNumber, signature, issuer, validity, subject,
  // subjectPublicKeyInfo, extensions } (RFC 5280 §4.1).
  const tbs = forge.pki.certificateToAsn1(cert).value[0] as forge.asn1.Asn1;
  const parts = (tbs.value as forge.asn1.Asn1[]).map((part) => derOf(part));
  const ecdsaWithSha256 = der(
    0x30,
    der(0x06, Buffer.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 4, 3, 2])),
  );
  parts[2] = ecdsaWithSha256;
  parts[6] = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const tbsDer = der(0x30, ...parts);
  const signature = sign('sha256', tbsDer, privateKey);
  const certDer = der(0x30, tbsDer, ecdsaWithSha256, der(0x03, Buffer.from([0]), signature));
  return forge.pem.encode({ type: 'CERTIFICATE', body: certDer.toString('binary') });
}

function derOf(node: forge.asn1.Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(node).getBytes(), 'binary');
}

/** One DER element with a definite length. */
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const length =
    body.length < 0x80
      ? Buffer.from([body.length])
      : (() => {
          const bytes: number[] = [];
          for (let n = body.length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
          return Buffer.from([0x80 | bytes.length, ...bytes]);
        })();
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

/** A Secret as the gather step builds it. */
export function secret(overrides: Partial<SecretView> = {}): SecretView {
  return {
    namespace: 'shop',
    name: 'web-tls',
    type: 'kubernetes.io/tls',
    resourceVersion: '1',
    data: {},
    annotations: {},
    labels: {},
    ...overrides,
  };
}

/** A `kubernetes.io/tls` Secret holding a certificate made from `spec` and its key. */
export function tlsSecret(spec: CertificateSpec, overrides: Partial<SecretView> = {}): SecretView {
  return secret({
    data: { 'tls.crt': certificate(spec), 'tls.key': keyPem(spec.key) },
    ...overrides,
  });
}

/** A desired certificate for `hosts` in shop/web-tls. */
export function desired(hosts: string[]): DesiredCertificate {
  return {
    namespace: 'shop',
    secretName: 'web-tls',
    hosts,
    commonName: hosts[0],
    requesters: [{ kind: 'Ingress', namespace: 'shop', name: 'web', uid: 'uid-web', index: 0 }],
    ingressClass: 'nginx',
    provider: 'ingress',
  };
}

/** A status entry for shop/web-tls. */
export function status(overrides: Partial<CertificateStatus> = {}): CertificateStatus {
  return {
    namespace: 'shop',
    secretName: 'web-tls',
    ingresses: ['shop/web'],
    hosts: ['a.example', 'b.example'],
    notAfter: null,
    result: 'Failed',
    reason: 'OrderFailed',
    message: 'The order failed.',
    checkedAt: NOW.toISOString(),
    failures: 0,
    ...overrides,
  };
}
