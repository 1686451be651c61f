/**
 * Replay-Nonces kept from the ACME server's responses, for the next signed request.
 *
 * RFC 8555 §6.5: the server sends a fresh nonce in the Replay-Nonce header of every response to
 * a POST (and may on others), and the client SHOULD use it for its next request rather than ask
 * newNonce again (§7.2). acme-client 5.4 ignores them and sends `HEAD newNonce` before every
 * signed POST, doubling the requests of an order. Each nonce is good for one request, so a kept
 * nonce is handed out once; the newest is handed out first (the oldest are the likeliest to have
 * expired on the server). A nonce the server rejects anyway (`badNonce`) costs one retry, which
 * acme-client makes with the nonce of the error response (§6.5).
 */

/** How many nonces are kept per server; more would only go stale. */
const CAPACITY = 4;

export class NoncePool {
  private readonly kept = new Map<string, string[]>();

  /** Keeps `nonce` (a Replay-Nonce header value) for requests to `origin`. Ignores non-strings. */
  keep(origin: string, nonce: unknown): void {
    if (typeof nonce !== 'string' || nonce === '') return;
    const list = this.kept.get(origin) ?? [];
    list.push(nonce);
    if (list.length > CAPACITY) list.shift();
    this.kept.set(origin, list);
  }

  /** The newest nonce kept for `origin`, removed from the pool; `undefined` when none is. */
  take(origin: string): string | undefined {
    return this.kept.get(origin)?.pop();
  }
}
