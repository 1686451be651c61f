/**
 * When a certificate is due for renewal: LEGO_MINIMUM_VALIDITY, bounded by the certificate's own
 * lifetime so that short-lived certificates are renewed sensibly.
 */

/**
 * How much validity must remain before a certificate is renewed: renew when
 * `notAfter − now < threshold`.
 *
 * The threshold is the larger of `minimumValidityMs` and a third of the lifetime (Let's Encrypt's
 * "Integration Guide" recommends renewing with a third of the lifetime left; for today's 90-day
 * certificates both give 30 days with the default 720h).
 *
 * But when `minimumValidityMs` is at least the whole lifetime — the default 720h against a 6-day
 * "shortlived" profile certificate — that rule would find every fresh certificate due, and each
 * run would order a new one: Let's Encrypt allows only 5 certificates for the same set of names
 * per week (the Duplicate Certificate limit, Let's Encrypt "Rate Limits"), so the job would soon
 * be blocked and the certificate would expire. In that case the threshold is a third of the
 * lifetime alone.
 *
 * Returns a third of the lifetime (possibly ≤ 0) when the lifetime is not positive.
 */
export function renewalThresholdMs(lifetimeMs: number, minimumValidityMs: number): number {
  const third = lifetimeMs / 3;
  if (minimumValidityMs >= lifetimeMs) return third;
  return Math.max(minimumValidityMs, third);
}

/**
 * The instant after which a certificate valid from `notBefore` to `notAfter` is due for renewal
 * (`notAfter − threshold`, see {@link renewalThresholdMs}); at exactly this instant it is not yet
 * due.
 */
export function renewalDueAt(notBefore: Date, notAfter: Date, minimumValidityMs: number): Date {
  const lifetimeMs = notAfter.getTime() - notBefore.getTime();
  return new Date(notAfter.getTime() - renewalThresholdMs(lifetimeMs, minimumValidityMs));
}
