/**
 * The responder's read-only view of the job's status ConfigMap, as last seen by its watcher: what
 * the certificate metrics are made of, so expiry can be alerted on while the job is not running.
 * (Not the job's own read of that ConfigMap inside a run, which is a different thing.)
 */
import type { Logger } from '../shared/logger.js';
import { decodeStatus, type CertificateStatus, type RunStatus } from '../shared/status-entries.js';

/** The last status the job wrote, kept current by `replace`; empty until the ConfigMap is seen. */
export class JobStatusView {
  private current: { certificates: CertificateStatus[]; run: RunStatus | undefined } = {
    certificates: [],
    run: undefined,
  };
  private malformedKeys = new Set<string>();

  constructor(private readonly logger: Logger) {}

  /** Number of status entries skipped as unreadable in the last update. */
  get malformedCount(): number {
    return this.malformedKeys.size;
  }

  /** Every certificate the job recorded, sorted by `<namespace>.<secret>`. */
  get certificates(): readonly CertificateStatus[] {
    return this.current.certificates;
  }

  /** The last run; `undefined` when none was recorded (or the ConfigMap does not exist). */
  get run(): RunStatus | undefined {
    return this.current.run;
  }

  /**
   * Replaces the view with a status ConfigMap's `data` (`undefined`: it does not exist).
   * Unreadable entries are skipped and logged once while they stay.
   */
  replace(data: Record<string, string> | undefined): void {
    const { certificates, run, malformed } = decodeStatus(data);
    for (const key of malformed) {
      if (!this.malformedKeys.has(key)) {
        this.logger.warn('skipping a malformed status entry', { entry: key.slice(0, 100) });
      }
    }
    this.malformedKeys = new Set(malformed);
    this.current = { certificates, run };
  }
}
