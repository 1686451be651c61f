/**
 * When the responder runs one memory-reducing garbage collection: once its traffic has been
 * quiet for a while after a burst. The decision only, as a step over counts (no clock, no I/O);
 * idle-collector.ts looks at the traffic every period and carries it out.
 *
 * Why: after a load V8 keeps the heap it grew, though the live objects are back at their idle
 * size (measured a minute after the benchmark's load: 5.6 MB more committed heap than idle), and
 * it does not give it back by itself. Its memory reducer judges the allocation rate from the last
 * garbage collections, and a process that has gone quiet makes none: with
 * `--trace-memory-reducer` it reports "high alloc, foreground" every 8 s for the whole minute
 * (`--optimize-for-size` lets it run, but it stops for good after two collections and did not run
 * again after the benchmark's slow clients). One memory-reducing collection in the quiet gave
 * 7 MB of RSS back (docs/responder.md, "The memory a minute after load").
 */

/** What counts as a burst and as quiet. Traffic is connections accepted plus requests received. */
export interface IdleCollectionPolicy {
  /** How often the traffic is looked at, ms. */
  periodMs: number;
  /** Traffic in one period at or below which the period is quiet (probes, a validation). */
  quietTraffic: number;
  /** How long the traffic must have been quiet before collecting, ms. */
  quietMs: number;
  /** Traffic since the last collection (or the start) that is worth collecting after. */
  burstTraffic: number;
}

/**
 * The responder's policy. Kubelet probes make about 6 connections and requests in 10 s and a
 * validation a few more, so a quiet period allows 20. Half a minute of quiet means the burst is
 * over (a pause between waves of it does not trigger a collection that the next wave would
 * undo); 1,000 since the last collection keeps probes alone from causing one more often than
 * every half hour or so, and a slow-client flood of 1,000 connections is a burst.
 */
export const IDLE_COLLECTION: IdleCollectionPolicy = {
  periodMs: 10_000,
  quietTraffic: 20,
  quietMs: 30_000,
  burstTraffic: 1_000,
};

/** What the collector remembers between two looks at the traffic. */
export interface IdleCollectionState {
  /** The traffic counter at the last collection (0 at the start). */
  atCollection: number;
  /** The traffic counter at the last look. */
  atLastLook: number;
  /** How long the traffic has been quiet, ms: whole quiet periods in a row. */
  quietForMs: number;
}

/** The state before the first look. */
export const INITIAL_IDLE_COLLECTION_STATE: IdleCollectionState = {
  atCollection: 0,
  atLastLook: 0,
  quietForMs: 0,
};

/**
 * One look at the traffic, a period after the previous one: the next state, and whether to
 * collect now. `traffic` is the counter's current value; it only grows. Collects at most once
 * per burst: the traffic since the collection then starts again from 0.
 */
export function lookAtTraffic(
  state: IdleCollectionState,
  traffic: number,
  policy: IdleCollectionPolicy,
): { state: IdleCollectionState; collect: boolean } {
  const quietForMs =
    traffic - state.atLastLook <= policy.quietTraffic ? state.quietForMs + policy.periodMs : 0;
  const collect =
    quietForMs >= policy.quietMs && traffic - state.atCollection >= policy.burstTraffic;
  return {
    state: {
      atCollection: collect ? traffic : state.atCollection,
      atLastLook: traffic,
      quietForMs,
    },
    collect,
  };
}
