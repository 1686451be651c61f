/**
 * The key types a certificate can have: their names (LEGO_KEY_TYPE), how each is generated, and
 * how a key is described and compared. One vocabulary with exhaustive switches (certmagic keeps
 * its key types in one file the same way): a new member is a compile error wherever it matters,
 * and no type silently becomes another.
 */
import { generateKeyPair, type KeyObject } from 'node:crypto';

/** Key types a certificate can have. RSA sizes come from LEGO_RSA_KEYSIZE. */
export const KEY_TYPES = ['rsa', 'ecdsa-p256', 'ecdsa-p384'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** What certificates the configuration asks for. */
export interface KeyPolicy {
  keyType: KeyType;
  rsaKeySize: number;
}

/** What kind of key a certificate or private key has. */
export type KeyDescription =
  { kind: 'rsa'; bits: number } | { kind: 'ec'; curve: string } | { kind: 'other'; type: string };

/** The key a {@link KeyPolicy} asks for. */
export function keyPolicyDescription(policy: KeyPolicy): KeyDescription {
  switch (policy.keyType) {
    case 'rsa':
      return { kind: 'rsa', bits: policy.rsaKeySize };
    case 'ecdsa-p256':
      return { kind: 'ec', curve: 'P-256' };
    case 'ecdsa-p384':
      return { kind: 'ec', curve: 'P-384' };
  }
}

/** A key description for messages: `RSA 2048`, `ECDSA P-256`. */
export function formatKey(key: KeyDescription): string {
  switch (key.kind) {
    case 'rsa':
      return `RSA ${key.bits}`;
    case 'ec':
      return `ECDSA ${key.curve}`;
    case 'other':
      return key.type;
  }
}

/**
 * The key description {@link formatKey} printed as `text` (`RSA 2048`, `ECDSA P-256`, or another
 * type's name): how a description stored in the status (shared/secret-facts.ts) is read back.
 * Every output of {@link formatKey} reads back as the description it came from.
 */
export function parseKeyDescription(text: string): KeyDescription {
  const rsa = /^RSA (\d+)$/.exec(text);
  if (rsa) return { kind: 'rsa', bits: Number(rsa[1]) };
  const ec = /^ECDSA (.+)$/.exec(text);
  if (ec?.[1] !== undefined) return { kind: 'ec', curve: ec[1] };
  return { kind: 'other', type: text };
}

const CURVE_NAMES: Record<string, string> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

/** Describes a public or private key: RSA modulus size, EC curve (as P-256, P-384, P-521). */
export function describeKey(key: KeyObject): KeyDescription {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' && details.modulusLength !== undefined) {
    return { kind: 'rsa', bits: details.modulusLength };
  }
  if (key.asymmetricKeyType === 'ec' && details.namedCurve !== undefined) {
    return { kind: 'ec', curve: CURVE_NAMES[details.namedCurve] ?? details.namedCurve };
  }
  return { kind: 'other', type: key.asymmetricKeyType ?? 'unknown' };
}

/**
 * Generates a fresh private key of the policy's type (PEM, PKCS#8) off the event loop
 * (node:crypto's asynchronous generator). A fresh key for every certificate: never reused across
 * orders, so a leaked old key cannot sign for a renewed certificate.
 */
export function generatePrivateKey(policy: KeyPolicy): Promise<string> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, _publicKey: string, privateKey: string) => {
      if (error) reject(error);
      else resolve(privateKey);
    };
    const encoding = {
      privateKeyEncoding: { type: 'pkcs8' as const, format: 'pem' as const },
      publicKeyEncoding: { type: 'spki' as const, format: 'pem' as const },
    };
    switch (policy.keyType) {
      case 'rsa':
        generateKeyPair('rsa', { modulusLength: policy.rsaKeySize, ...encoding }, done);
        return;
      case 'ecdsa-p256':
        generateKeyPair('ec', { namedCurve: 'P-256', ...encoding }, done);
        return;
      case 'ecdsa-p384':
        generateKeyPair('ec', { namedCurve: 'P-384', ...encoding }, done);
        return;
    }
  });
}
