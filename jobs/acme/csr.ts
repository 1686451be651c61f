/**
 * Adapter: the certificate signing request for an order, built with acme-client's crypto helper.
 */
import acme from 'acme-client';

/**
 * A CSR (PEM) for `hosts` signed by `privateKeyPem`. Every host is a subjectAltName (what
 * Let's Encrypt validates); the Common Name is set only when given (at most 64 characters,
 * RFC 5280's upper bound), since Let's Encrypt accepts certificates without one.
 */
export async function createCsr(
  hosts: readonly string[],
  commonName: string | undefined,
  privateKeyPem: string,
): Promise<Buffer> {
  const [, csr] = await acme.crypto.createCsr(
    { ...(commonName ? { commonName } : {}), altNames: [...hosts] },
    privateKeyPem,
  );
  return csr;
}
