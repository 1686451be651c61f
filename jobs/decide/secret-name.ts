/**
 * The Secret a TLS entry (an Ingress's `spec.tls[].secretName`, a Gateway listener's
 * `tls.certificateRefs[0].name`) names, checked as a decision: an untrusted value in, a name or a
 * violation out.
 */
import { objectName } from '../../shared/config/parsers.js';

/** The outcome of {@link readSecretName}; `shown` is the value to report, when it is text. */
export type SecretNameResult =
  | { ok: true; name: string }
  | {
      ok: false;
      shown: string | undefined;
      violation: { reason: 'NoSecretName' | 'InvalidSecretName'; message: string };
    };

/**
 * Accepts a Kubernetes object name; `NoSecretName` when the value is absent or empty,
 * `InvalidSecretName` when it is anything else that is not an object name. Never throws.
 */
export function readSecretName(raw: unknown): SecretNameResult {
  if (raw === undefined || raw === null || raw === '') {
    return {
      ok: false,
      shown: undefined,
      violation: {
        reason: 'NoSecretName',
        message:
          'The TLS entry has no secretName; name the Secret the certificate is to be stored in.',
      },
    };
  }
  if (typeof raw !== 'string' || !isObjectName(raw)) {
    const shown = typeof raw === 'string' ? raw : undefined;
    return {
      ok: false,
      shown,
      violation: {
        reason: 'InvalidSecretName',
        message: `secretName ${typeof raw === 'string' ? JSON.stringify(raw) : `(a ${typeof raw})`} is not a valid Secret name: use lower-case letters, digits, "-" and ".", at most 253 characters.`,
      },
    };
  }
  return { ok: true, name: raw };
}

/** Reuses the settings' object-name rule; that parser throws, a decision must not. */
function isObjectName(name: string): boolean {
  try {
    return objectName(name) === name;
  } catch {
    return false;
  }
}
