/**
 * The port between the reconcile run and an ACME server: what the run needs from a certificate
 * authority, without any protocol detail. jobs/acme/acme-authority.ts implements it with
 * acme-client; tests of the run may use a fake.
 */
import type { ChallengeEntry } from '../../shared/challenge-entries.js';

/** What the run does with the challenges of an order. */
export interface ChallengeHooks {
  /**
   * Publishes every pending challenge of the order and resolves once the server may validate
   * them (after the self-check or the fixed wait). Throwing abandons the order.
   */
  present(challenges: readonly ChallengeEntry[]): Promise<void>;
  /** Withdraws them. Called exactly once after `present`, whatever happened; never throws. */
  cleanup(challenges: readonly ChallengeEntry[]): Promise<void>;
  /**
   * Every authorization is valid: the order goes on to finalization and download, which must not
   * be abandoned (a certificate issued counts against Let's Encrypt's limits). Optional.
   */
  validated?(): void;
  /**
   * The order is about to be finalized (RFC 8555 §7.4): from here on a certificate may be
   * issued, so what is needed to download it again is recorded first. Throwing stops before
   * finalization, and nothing is issued. Optional.
   */
  finalizing?(orderUrl: string): Promise<void>;
}

/** What became of an order recorded before its finalization (see {@link CertificateAuthority.collect}). */
export type CollectedOrder = { chainPem: string } | { unusable: string };

export interface CertificateRequest {
  /** Exactly the names of the certificate; an order is placed for these and no others. */
  hosts: readonly string[];
  /** DER or PEM CSR for a fresh key (jobs/issue/private-key.ts). */
  csr: Buffer;
}

export interface CertificateAuthority {
  readonly directoryUrl: string;
  /**
   * Orders a certificate over HTTP-01 and returns the full chain (PEM, leaf first). All or
   * nothing: if any name fails validation, it throws and returns no certificate.
   * @throws AcmeError with the server's problem type and Retry-After, when it sent them.
   */
  obtain(request: CertificateRequest, hooks: ChallengeHooks): Promise<string>;
  /**
   * Fetches an order placed earlier (POST-as-GET, RFC 8555 §7.1.3) and returns its certificate:
   * a `valid` or `processing` order is downloaded, a `ready` one (never finalized) is finalized
   * with `csr` first. An order that can no longer give a certificate (`pending`, `invalid`,
   * expired, or unknown to the server) is `{ unusable: <why> }`. No new order is placed.
   * @throws AcmeUnavailableError when the server cannot be used; AcmeError for other problems.
   */
  collect(orderUrl: string, csr: Buffer): Promise<CollectedOrder>;
}
