/**
 * A fresh private key for every certificate (never reused across orders, so a leaked old key
 * cannot sign for a renewed certificate), of the type the configuration asks for.
 */
import { generateKeyPair } from 'node:crypto';
import type { KeyPolicy } from '../model.js';

/** Generates a key (PEM, PKCS#8) off the event loop (node:crypto's asynchronous generator). */
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
    if (policy.keyType === 'rsa') {
      generateKeyPair('rsa', { modulusLength: policy.rsaKeySize, ...encoding }, done);
    } else {
      const namedCurve = policy.keyType === 'ecdsa-p384' ? 'P-384' : 'P-256';
      generateKeyPair('ec', { namedCurve, ...encoding }, done);
    }
  });
}
