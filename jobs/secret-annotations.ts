/**
 * Annotations the job writes on every certificate Secret it issues, so a later run (and a human
 * with kubectl) can tell where and when the certificate came from without parsing it.
 */
import { ANNOTATION_PREFIX } from '../shared/labels.js';

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
