/**
 * The pending challenges, in memory: the responder's copy of the challenge ConfigMap. Each
 * update replaces the whole table at once, so a request sees either the old table or the new
 * one, never a mix.
 */
import {
  decodeChallenges,
  type ChallengeEntry,
  type MalformedChallenge,
} from '../shared/challenge-entries.js';
import type { Logger } from '../shared/logger.js';
import type { ChallengeLookup } from './answer.js';

/** What changed in one update. */
export interface ChallengeTableChange {
  added: string[];
  removed: string[];
  total: number;
  /** Every entry that could not be read, this update. */
  malformed: MalformedChallenge[];
}

/** The pending challenges, looked up by token. */
export class ChallengeTable implements ChallengeLookup {
  private entries = new Map<string, ChallengeEntry>();
  private malformedKeys = new Set<string>();

  constructor(private readonly logger: Logger) {}

  /** The challenge of `token`; `undefined` when it is not pending. */
  find(token: string): ChallengeEntry | undefined {
    return this.entries.get(token);
  }

  /** Number of pending challenges. */
  get size(): number {
    return this.entries.size;
  }

  /** Number of ConfigMap entries skipped as malformed in the last update. */
  get malformedCount(): number {
    return this.malformedKeys.size;
  }

  /**
   * Replaces every challenge with those in a ConfigMap's `data` (`undefined`: the ConfigMap does
   * not exist, so none). A malformed entry is skipped and logged (once, while it stays), never
   * stopping the others. Token names are logged; key authorizations never are.
   */
  replace(data: Record<string, string> | undefined): ChallengeTableChange {
    const { entries, malformed } = decodeChallenges(data);
    const next = new Map(entries.map((e) => [e.token, e]));
    const added = [...next.keys()].filter((t) => !this.entries.has(t));
    const removed = [...this.entries.keys()].filter((t) => !next.has(t));
    const malformedKeys = new Set(malformed.map((m) => m.key));
    for (const m of malformed) {
      if (!this.malformedKeys.has(m.key)) {
        this.logger.warn('skipping a malformed challenge entry', {
          entry: m.key.slice(0, 100),
          problem: m.problem,
        });
      }
    }
    this.entries = next;
    this.malformedKeys = malformedKeys;
    if (added.length > 0 || removed.length > 0) {
      this.logger.info('challenges changed', {
        added: added.length,
        removed: removed.length,
        total: next.size,
        // Route probes of the job (shared/challenge-entries.ts), served like any other token.
        probes: entries.filter((e) => e.probe).length,
      });
      this.logger.debug('challenge tokens changed', { added, removed });
    }
    return { added, removed, total: next.size, malformed };
  }
}
