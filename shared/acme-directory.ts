/**
 * What an ACME directory URL says about the certificates it issues: whether it is a staging
 * (test) directory, whose certificates no browser trusts. Shared by the job (its issuance log
 * line, the status it writes), the `status` command and the responder's metrics, so that a
 * staging certificate is never mistaken for a real one.
 */

/**
 * Hosts of the public CAs' staging directories. Let's Encrypt: "Staging Environment"
 * (letsencrypt.org/docs/staging-environment); Google Trust Services and Buypass document theirs
 * the same way.
 */
const STAGING_HOSTS: readonly string[] = [
  'acme-staging-v02.api.letsencrypt.org',
  'acme-staging.api.letsencrypt.org',
  'dv.acme-v02.test-api.pki.goog',
  'api.test4.buypass.no',
];

/**
 * Whether `url` names a staging directory: one of the known staging hosts, or any host with a
 * `staging` label part (`acme-staging.example.com`). Never throws: a URL that cannot be parsed
 * is not staging (the settings parser has already refused it).
 */
export function isStagingDirectory(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return STAGING_HOSTS.includes(host) || /(^|[.-])staging([.-]|$)/.test(host);
}
