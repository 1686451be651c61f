/**
 * Whether TLS hosts that are IP addresses get certificates (RFC 8738). Pure.
 *
 * Let's Encrypt issues IP-address certificates only in its `shortlived` profile ("IP Address
 * Certificates", Let's Encrypt, 2025): an order with an IP identifier in another profile is
 * refused. A directory's profile list (draft-aaron-acme-profiles `meta.profiles`) describes each
 * profile in prose only, so which profiles allow IP addresses cannot be read from the server: the
 * job knows Let's Encrypt's, and LEGO_IP_CERTIFICATES says so for any other CA.
 */

/** The values of LEGO_IP_CERTIFICATES. */
export const IP_CERTIFICATE_MODES = ['auto', 'true', 'false'] as const;
export type IpCertificateMode = (typeof IP_CERTIFICATE_MODES)[number];

/** Let's Encrypt's profiles in which it issues IP-address certificates. */
export const IP_CERTIFICATE_PROFILES: readonly string[] = ['shortlived'];

/** The settings {@link ipCertificatesAllowed} reads. */
export interface IpCertificateSettings {
  /** LEGO_IP_CERTIFICATES. */
  ipCertificates: IpCertificateMode;
  /** LEGO_ACME_PROFILE; empty for the server's default. */
  acmeProfile: string;
}

/**
 * Whether an IP address may be a TLS host: `true` → always (a CA that allows them in the profile
 * used), `false` → never, `auto` → when LEGO_ACME_PROFILE is one of
 * {@link IP_CERTIFICATE_PROFILES}.
 */
export function ipCertificatesAllowed(settings: IpCertificateSettings): boolean {
  switch (settings.ipCertificates) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'auto':
      return IP_CERTIFICATE_PROFILES.includes(settings.acmeProfile);
  }
}

/** What the `IpAddressHost` rejection adds: how to enable IP-address certificates. */
export function ipCertificatesHint(settings: IpCertificateSettings): string {
  if (settings.ipCertificates === 'false')
    return 'IP-address certificates are off (LEGO_IP_CERTIFICATES=false).';
  return `IP-address certificates (RFC 8738) need LEGO_ACME_PROFILE=${IP_CERTIFICATE_PROFILES.join(' or ')} (the only Let's Encrypt profile that allows them), or LEGO_IP_CERTIFICATES=true for an ACME server that issues them in the profile used${settings.acmeProfile ? ` (now: ${settings.acmeProfile})` : ''}.`;
}
