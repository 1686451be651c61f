/**
 * Which connection to give up when the responder is at its connection cap: the bookkeeping and
 * the decision, without sockets (http-server.ts carries it out). No I/O, no clock.
 *
 * Why: the cap (256, http-server.ts) protects memory and file descriptors, but Node's own
 * `maxConnections` drops every *new* connection at the cap — so that many clients that open a
 * connection and never finish their request head (slowloris) shut out the validator for up to
 * `headersTimeout`. Here,
 * at the cap, a new connection is admitted and an old one that is *waiting* (connected, or idle
 * on keep-alive, with no request head received) is closed instead: the longest-waiting one of the
 * client address that holds the most connections. A client that sends its request answers in
 * milliseconds and is waiting only briefly, so it is rarely the one chosen; a flood from one
 * address evicts its own connections first. Only when every connection is busy with a request
 * (which, with answers of a few hundred bytes, lasts microseconds) is the new one refused.
 *
 * Behind an ingress controller every connection may come from a few addresses; then the rule is
 * simply "the longest-waiting connection goes", which still lets a request through.
 */

/** What to do with a connection that has just been accepted. */
export type Admission<C> =
  { admit: true } | { admit: true; evict: C } | { admit: false; reason: 'all_busy' };

interface AddressEntry<C> {
  open: number;
  /** Connections with no request head received, the longest-waiting first (insertion order). */
  waiting: Set<C>;
}

/** The open connections, by client address, and whether each is waiting for a request head. */
export class ConnectionTable<C> {
  private readonly byAddress = new Map<string, AddressEntry<C>>();
  private readonly addressOf = new Map<C, string>();

  /** @param cap  the most connections open at once (at least 1). */
  constructor(private readonly cap: number) {}

  /** Connections open now. */
  get size(): number {
    return this.addressOf.size;
  }

  /**
   * Records a new connection from `address` and decides: admit it, admit it and close `evict`
   * (already forgotten here), or refuse it (not recorded). `address` may be `''` when unknown.
   */
  open(connection: C, address: string): Admission<C> {
    let evict: C | undefined;
    if (this.addressOf.size >= this.cap) {
      evict = this.chooseEviction(address);
      if (evict === undefined) return { admit: false, reason: 'all_busy' };
      this.close(evict);
    }
    let entry = this.byAddress.get(address);
    if (entry === undefined) {
      entry = { open: 0, waiting: new Set() };
      this.byAddress.set(address, entry);
    }
    entry.open++;
    entry.waiting.add(connection);
    this.addressOf.set(connection, address);
    return evict === undefined ? { admit: true } : { admit: true, evict };
  }

  /** A request head arrived on `connection`: it is busy, not to be evicted. Unknown: ignored. */
  busy(connection: C): void {
    const address = this.addressOf.get(connection);
    if (address !== undefined) this.byAddress.get(address)?.waiting.delete(connection);
  }

  /** The answer on `connection` finished: it waits for its next request, as the newest. */
  waiting(connection: C): void {
    const address = this.addressOf.get(connection);
    if (address === undefined) return;
    const waiting = this.byAddress.get(address)?.waiting;
    waiting?.delete(connection);
    waiting?.add(connection);
  }

  /** `connection` closed. Unknown or already forgotten: ignored. */
  close(connection: C): void {
    const address = this.addressOf.get(connection);
    if (address === undefined) return;
    this.addressOf.delete(connection);
    const entry = this.byAddress.get(address);
    if (entry === undefined) return;
    entry.waiting.delete(connection);
    entry.open--;
    if (entry.open === 0) this.byAddress.delete(address);
  }

  /**
   * The longest-waiting connection of the address with the most open connections (counting the
   * one arriving from `arriving`) among addresses that have a waiting one; `undefined` if none.
   */
  private chooseEviction(arriving: string): C | undefined {
    let chosen: AddressEntry<C> | undefined;
    let most = 0;
    for (const [address, entry] of this.byAddress) {
      if (entry.waiting.size === 0) continue;
      const open = entry.open + (address === arriving ? 1 : 0);
      if (open > most) {
        most = open;
        chosen = entry;
      }
    }
    return chosen?.waiting.values().next().value;
  }
}
