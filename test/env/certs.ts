/**
 * Test PKI for the environment: one CA that signs the kube-apiserver's serving certificate, the
 * admin client certificate (O=system:masters, as envtest does) and Pebble's HTTPS certificate.
 * Keys come from node:crypto (fast, native); node-forge builds the X.509 certificates.
 */
import { generateKeyPair as generateKeyPairCb } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateKeyPair = promisify(generateKeyPairCb);

export interface KeyPairPem {
  privateKey: string;
  publicKey: string;
}

export interface IssuedPem {
  cert: string;
  key: string;
}

/** An RSA 2048 key pair in PEM (PKCS#8 private, SPKI public). */
export async function rsaKeyPair(): Promise<KeyPairPem> {
  return generateKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

function serial(): string {
  // Positive, 16 bytes: a leading 0x01..0x7f byte keeps the DER INTEGER positive.
  return '01' + forge.util.bytesToHex(forge.random.getBytesSync(15));
}

function validity(cert: forge.pki.Certificate): void {
  cert.validity.notBefore = new Date(Date.now() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(Date.now() + 7 * 24 * 60 * 60 * 1000);
}

/** A self-signed test CA. */
export async function createCa(commonName: string): Promise<IssuedPem> {
  const keys = await rsaKeyPair();
  const key = forge.pki.privateKeyFromPem(keys.privateKey);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey);
  cert.serialNumber = serial();
  validity(cert);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.privateKey };
}

/** A leaf certificate signed by `ca`, for a server (`dns`/`ips`) or a client (`organization`). */
export async function issueLeaf(
  ca: IssuedPem,
  options: {
    commonName: string;
    organization?: string;
    dns?: string[];
    ips?: string[];
    client?: boolean;
  },
): Promise<IssuedPem> {
  const keys = await rsaKeyPair();
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey);
  cert.serialNumber = serial();
  validity(cert);
  const subject: forge.pki.CertificateField[] = [{ name: 'commonName', value: options.commonName }];
  if (options.organization) subject.push({ name: 'organizationName', value: options.organization });
  cert.setSubject(subject);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...(options.dns ?? []).map((value) => ({ type: 2, value })),
    ...(options.ips ?? []).map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: !options.client, clientAuth: true },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.privateKey };
}
