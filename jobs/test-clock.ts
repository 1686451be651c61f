/**
 * The job's clock, and the one way tests may move it.
 *
 * Back-off (1h → 32h) and renewal (days) cannot be tested in real time, so tests run the job
 * "later" by setting {@link TEST_CLOCK_OFFSET_ENV} to a Go duration (`25h`, `-1h`). It is a
 * test hook, not a setting: it has no flag, is not in the settings table, and is refused unless
 * {@link TEST_HOOKS_ENV} is `enabled` too, so a stray variable in a real installation stops the
 * job with exit code 2 instead of silently shifting every decision.
 *
 * The offset moves every decision and every time the job records (back-off, renewal, status,
 * Secret annotations). It does not move the Lease, whose times other runs compare with their
 * own real clocks, nor the ACME server's clock: certificates are issued for the real now.
 */
import { ConfigError } from '../shared/errors.js';
import { parseDuration } from '../shared/duration.js';

/** Offset added to the real time, as a Go duration; test use only. */
export const TEST_CLOCK_OFFSET_ENV = 'KUBE_LEGO_TEST_CLOCK_OFFSET';
/** Must be `enabled` for any test hook to be accepted. */
export const TEST_HOOKS_ENV = 'KUBE_LEGO_TEST_HOOKS';

/**
 * The clock of a run: the real time, plus the test offset when one is set and test hooks are
 * enabled.
 * @throws ConfigError when the offset is set without test hooks enabled, or is not a duration.
 */
export function clockFrom(env: NodeJS.ProcessEnv): () => Date {
  const raw = env[TEST_CLOCK_OFFSET_ENV];
  if (raw === undefined || raw === '') return () => new Date();
  if (env[TEST_HOOKS_ENV] !== 'enabled') {
    throw new ConfigError(
      TEST_CLOCK_OFFSET_ENV,
      raw,
      `nothing outside tests: it shifts the job's clock, and is only accepted with ${TEST_HOOKS_ENV}=enabled`,
    );
  }
  const negative = raw.trim().startsWith('-');
  const magnitude = parseDuration(negative ? raw.trim().slice(1) : raw.trim());
  if (magnitude === undefined) {
    throw new ConfigError(TEST_CLOCK_OFFSET_ENV, raw, 'a duration in Go syntax such as 25h or -1h');
  }
  const offset = negative ? -magnitude : magnitude;
  return () => new Date(Date.now() + offset);
}
