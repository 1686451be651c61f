/**
 * The `kubernetes.io/tls` Secret as the job reads and writes it — its type, its data keys and the
 * annotations the job adds — in one place for the decide step, the Secret adapter and the
 * issuance. See Kubernetes' "Secrets" documentation, "TLS Secrets".
 */
import { ANNOTATION_PREFIX } from '../shared/labels.js';
import type { SecretView } from './model.js';

/** The Secret type that holds a certificate and its key. */
export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

/** Data key of the PEM certificate chain, leaf first. */
export const TLS_CERTIFICATE_KEY = 'tls.crt';

/** Data key of the PEM private key. */
export const TLS_PRIVATE_KEY_KEY = 'tls.key';

/** The data keys the job reads and writes; a Secret's other keys are kept as they are. */
export const TLS_DATA_KEYS = [TLS_CERTIFICATE_KEY, TLS_PRIVATE_KEY_KEY] as const;

/**
 * Annotations the job writes on every certificate Secret it issues, so a later run (and a human
 * with kubectl) can tell where and when the certificate came from without parsing it.
 */
export const SECRET_ANNOTATIONS = {
  /** The ACME directory URL the certificate was ordered from. */
  directoryUrl: `${ANNOTATION_PREFIX}directory-url`,
  /** The hosts it was ordered for, comma-separated, sorted. */
  hosts: `${ANNOTATION_PREFIX}hosts`,
  /** The certificate's notAfter, ISO 8601. */
  notAfter: `${ANNOTATION_PREFIX}not-after`,
  /** When it was issued (stored), ISO 8601. */
  issuedAt: `${ANNOTATION_PREFIX}issued-at`,
} as const;

/** Text of a Secret data key, or `undefined` when it is absent or only whitespace. */
export function readSecretText(secret: SecretView, key: string): string | undefined {
  const value = secret.data[key];
  return value === undefined || value.trim() === '' ? undefined : value;
}
