/** How the commands name one certificate: `<namespace>/<secret>`, as kubectl names objects. */
import { ConfigError } from '../../shared/errors.js';

/** One certificate, by the Secret it is stored in. */
export interface CertificateRef {
  namespace: string;
  secretName: string;
}

/**
 * Parses `<namespace>/<secret>`.
 * @throws ConfigError (exit code 2) naming the argument when it is not of that form.
 */
export function parseCertificateRef(text: string): CertificateRef {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(text);
  if (!match?.[1] || !match[3])
    throw new ConfigError('certificate', text, '<namespace>/<secret>, e.g. shop/web-tls');
  return { namespace: match[1], secretName: match[3] };
}
