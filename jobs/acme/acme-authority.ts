/**
 * Adapter: {@link CertificateAuthority} over ACME (RFC 8555) with acme-client.
 *
 * The account is resolved lazily, on the first order of a run, so a run with nothing to issue
 * sends no ACME request at all. It comes from the account Secret (one account per directory);
 * without one, an account is registered (agreeing to the terms, RFC 8555 §7.3) and stored; an
 * account the server no longer knows (`accountDoesNotExist`, or `unauthorized` for a deactivated
 * one) is registered again with a new key and stored in its place.
 */
import { generateKeyPair as generateKeyPairCb } from 'node:crypto';
import { promisify } from 'node:util';
import acme from 'acme-client';
import { AcmeError, AcmeUnavailableError, describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { ChallengeEntry } from '../../shared/challenge-entries.js';
import type { AccountRecord, AccountSecretStore } from '../kube/account-secret.js';
import { lastNetworkError, lastProblem, resetLastProblem } from './acme-http.js';
import { redactChallengeSecrets } from './problem-redaction.js';
import { identifierType } from '../decide/ip-address.js';
import type {
  CertificateAuthority,
  CertificateRequest,
  ChallengeHooks,
  CollectedOrder,
} from './certificate-authority.js';

const generateKeyPair = promisify(generateKeyPairCb);

/**
 * How acme-client polls a challenge or order for its final status: 1 s, doubling to 10 s, 12
 * times (about 90 s). Let's Encrypt usually validates within seconds; its integration guide asks
 * clients not to poll faster than that.
 */
const POLLING = { backoffMin: 1000, backoffMax: 10_000, backoffAttempts: 12 };

const ACCOUNT_GONE = new Set([
  'urn:ietf:params:acme:error:accountDoesNotExist',
  'urn:ietf:params:acme:error:unauthorized',
]);

export interface AcmeAuthorityOptions {
  directoryUrl: string;
  email: string;
  /** Certificate profile to ask for (draft-aaron-acme-profiles); empty for the server default. */
  profile: string;
  accounts: AccountSecretStore;
  logger: Logger;
  now: () => Date;
}

type AcmeOrder = Awaited<ReturnType<acme.Client['createOrder']>>;
type AcmeAuthorization = Awaited<ReturnType<acme.Client['getAuthorizations']>>[number];
type AcmeChallenge = AcmeAuthorization['challenges'][number];

export class AcmeAuthority implements CertificateAuthority {
  private client: acme.Client | undefined;

  constructor(private readonly options: AcmeAuthorityOptions) {}

  get directoryUrl(): string {
    return this.options.directoryUrl;
  }

  async obtain(request: CertificateRequest, hooks: ChallengeHooks): Promise<string> {
    let client = await this.account();
    let order: AcmeOrder;
    try {
      order = await this.createOrder(client, request);
    } catch (error) {
      if (!(error instanceof AcmeError) || !ACCOUNT_GONE.has(error.problemType ?? '')) throw error;
      this.options.logger.warn(
        'the ACME server no longer knows the stored account; registering a new one',
        {
          directory: this.directoryUrl,
          problem: error.message,
        },
      );
      client = await this.register(await newAccountKey());
      order = await this.createOrder(client, request);
    }
    this.options.logger.debug('order created', {
      order: order.url,
      replaces: (order as { replaces?: unknown }).replaces,
    });
    const authorizations = await call('get authorizations', () => client.getAuthorizations(order));
    const pending: {
      authorization: AcmeAuthorization;
      challenge: AcmeChallenge;
      entry: ChallengeEntry;
    }[] = [];
    for (const authorization of authorizations) {
      // An authorization still valid from an earlier order needs no new validation (§7.1.4).
      if (authorization.status === 'valid') continue;
      const challenge = authorization.challenges.find((c) => c.type === 'http-01');
      if (!challenge) {
        throw new AcmeError(
          `the server offers no http-01 challenge for ${authorization.identifier.value}`,
          undefined,
          undefined,
        );
      }
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
      pending.push({
        authorization,
        challenge,
        entry: { token: challenge.token, domain: authorization.identifier.value, keyAuthorization },
      });
    }
    const entries = pending.map((p) => p.entry);
    const secrets = entries.flatMap((e) => [e.token, e.keyAuthorization]);
    let completed = false;
    try {
      if (entries.length > 0) {
        await hooks.present(entries);
        for (const p of pending) {
          await call(
            `answer the challenge of ${p.entry.domain}`,
            () => client.completeChallenge(p.challenge),
            secrets,
          );
        }
        this.options.logger.debug('validation requested', { authorizations: pending.length });
        for (const p of pending) {
          await call(
            `validation of ${p.entry.domain}`,
            () => client.waitForValidStatus(p.challenge),
            secrets,
          );
        }
      }
      completed = true;
    } finally {
      if (entries.length > 0) await hooks.cleanup(entries);
      if (!completed)
        await this.deactivate(
          client,
          pending.map((p) => p.authorization),
        );
    }
    // Every authorization is valid, so the order is ready to finalize (§7.4).
    hooks.validated?.();
    await hooks.finalizing?.(order.url);
    const finalized = await call('finalize order', () => client.finalizeOrder(order, request.csr));
    return call('download certificate', () => client.getCertificate(finalized));
  }

  async collect(orderUrl: string, csr: Buffer): Promise<CollectedOrder> {
    const client = await this.account();
    // A 4xx answer (404: the server no longer keeps the order; an expired order refusing
    // finalization) makes the order unusable; 5xx and network failures stay the run's
    // (AcmeUnavailableError).
    const unusable = (error: unknown): CollectedOrder => {
      if (error instanceof AcmeError && !(error instanceof AcmeUnavailableError))
        return { unusable: error.message };
      throw error;
    };
    let order: AcmeOrder;
    try {
      order = await call('get order', () => client.getOrder({ url: orderUrl } as AcmeOrder));
      if (order.status === 'ready') {
        const ready = order;
        order = await call('finalize order', () => client.finalizeOrder(ready, csr));
      }
    } catch (error) {
      return unusable(error);
    }
    if (order.status !== 'valid' && order.status !== 'processing')
      return { unusable: `the order is ${order.status}` };
    return { chainPem: await call('download certificate', () => client.getCertificate(order)) };
  }

  /**
   * newOrder, naming the replaced certificate when there is one (RFC 9773 §5; acme-client passes
   * the field through). A server that refuses the order with it — `alreadyReplaced`, or any other
   * error about the field (Pebble answers 500 for a certificate it did not issue) — gets the
   * order once more without it: `replaces` only spares the renewal Let's Encrypt's rate limits,
   * it must never stop it.
   */
  private async createOrder(client: acme.Client, request: CertificateRequest): Promise<AcmeOrder> {
    if (request.replaces) {
      try {
        return await call('create order', () =>
          client.createOrder(this.orderRequest(request, request.replaces)),
        );
      } catch (error) {
        if (!(error instanceof AcmeError)) throw error;
        this.options.logger.info(
          'the ACME server refused the order naming the certificate it replaces; ordering without',
          { replaces: request.replaces, problem: error.message },
        );
      }
    }
    return call('create order', () => client.createOrder(this.orderRequest(request, undefined)));
  }

  private orderRequest(
    request: CertificateRequest,
    replaces: string | undefined,
  ): Parameters<acme.Client['createOrder']>[0] {
    // An IP address is an identifier of type "ip" in its canonical text (RFC 8738 §3); the
    // hosts are normalised already (jobs/decide/hosts.ts).
    const body: Record<string, unknown> = {
      identifiers: request.hosts.map((value) => ({ type: identifierType(value), value })),
    };
    if (this.options.profile) body.profile = this.options.profile;
    if (replaces) body.replaces = replaces;
    return body as unknown as Parameters<acme.Client['createOrder']>[0];
  }

  /**
   * Pending authorizations of a failed order are deactivated (§7.5.2), so they do not count
   * against Let's Encrypt's limit on pending authorizations. Best effort.
   */
  private async deactivate(
    client: acme.Client,
    authorizations: AcmeAuthorization[],
  ): Promise<void> {
    for (const authorization of authorizations) {
      try {
        await client.deactivateAuthorization(authorization);
      } catch (error) {
        this.options.logger.debug('could not deactivate an authorization', {
          error: describeError(error),
        });
      }
    }
  }

  /** The account client, from the Secret or registered now. */
  private async account(): Promise<acme.Client> {
    if (this.client) return this.client;
    const stored = await this.options.accounts.read();
    for (const problem of stored.problems)
      this.options.logger.warn('account Secret entry skipped', { problem });
    const record = stored.accounts.find((a) => a.directoryUrl === this.directoryUrl);
    if (record) {
      this.options.logger.debug('using the stored ACME account', { accountUrl: record.accountUrl });
      this.client = new acme.Client({
        directoryUrl: this.directoryUrl,
        accountKey: record.privateKeyPem,
        accountUrl: record.accountUrl,
        ...POLLING,
      });
      return this.client;
    }
    // kube-lego's account key registers again for the same account where the server accepts
    // it (an existing account answers 200 to newAccount, §7.3.1); otherwise a new key.
    const key = stored.legacyKeyPem ?? (await newAccountKey());
    try {
      return await this.register(key);
    } catch (error) {
      if (!stored.legacyKeyPem) throw error;
      this.options.logger.warn('kube-lego account key not accepted; registering with a new key', {
        error: describeError(error),
      });
      return this.register(await newAccountKey());
    }
  }

  private async register(accountKey: string): Promise<acme.Client> {
    const client = new acme.Client({ directoryUrl: this.directoryUrl, accountKey, ...POLLING });
    await call('register account', () =>
      client.createAccount({
        termsOfServiceAgreed: true,
        ...(this.options.email ? { contact: [`mailto:${this.options.email}`] } : {}),
      }),
    );
    const record: AccountRecord = {
      directoryUrl: this.directoryUrl,
      accountUrl: client.getAccountUrl(),
      privateKeyPem: accountKey,
      email: this.options.email,
      registeredAt: this.options.now().toISOString(),
    };
    await this.options.accounts.save(record);
    this.options.logger.info('registered an ACME account', {
      directory: this.directoryUrl,
      accountUrl: record.accountUrl,
    });
    this.client = client;
    return client;
  }
}

/** An ECDSA P-256 account key (PEM); accounts sign with ES256 (RFC 7518 §3.4). */
async function newAccountKey(): Promise<string> {
  const { privateKey } = await generateKeyPair('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return privateKey;
}

/**
 * Runs one ACME step; failures become AcmeError with the server's problem type and Retry-After.
 * The problem text is stripped of challenge tokens and key authorizations (`known` and anything
 * shaped like them: jobs/acme/problem-redaction.ts) before it becomes a message, and so is the
 * wrapped error's own message, since describeError() appends causes.
 */
async function call<T>(
  step: string,
  fn: () => Promise<T>,
  known: readonly string[] = [],
): Promise<T> {
  resetLastProblem();
  try {
    return await fn();
  } catch (error) {
    if (error instanceof AcmeError) throw error;
    const problem = lastProblem();
    const network = lastNetworkError();
    const cause = network ?? error;
    // acme-client puts the server's detail into its own Error's message.
    if (cause instanceof Error) cause.message = redactChallengeSecrets(cause.message, known);
    // acme-client turns network failures into "Cannot read properties of undefined (reading
    // 'config')" (its issue #101): report the network error underneath instead.
    const detail = redactChallengeSecrets(
      problem?.detail ?? (network ? describeError(network) : describeError(error)),
      known,
    );
    // No answer at all, or a server error: the server is unusable, not this order (RFC 8555
    // §6.7 problems with a 4xx status are about the request).
    const unavailable = problem ? problem.status >= 500 : network !== undefined;
    const Kind = unavailable ? AcmeUnavailableError : AcmeError;
    throw new Kind(
      `ACME ${step} failed: ${detail}${problem?.type ? ` (${problem.type.replace('urn:ietf:params:acme:error:', '')})` : ''}`,
      problem?.type,
      problem?.retryAfter,
      { cause },
    );
  }
}
