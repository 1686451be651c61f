/**
 * A test hook that holds the job at a named point until a signal, so an end-to-end test can
 * break something around the job at exactly that moment (stop the API server after a certificate
 * was downloaded and before it is stored). Like the test clock (jobs/test-clock.ts) it is not a
 * setting: no flag, not in the settings table, refused unless KUBE_LEGO_TEST_HOOKS=enabled.
 */
import { ConfigError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { TEST_HOOKS_ENV } from './test-clock.js';

/** The point to pause at; test use only. */
export const TEST_PAUSE_ENV = 'KUBE_LEGO_TEST_PAUSE';
/** The points the job can pause at. */
export const PAUSE_POINTS = ['before-store'] as const;
export type PausePoint = (typeof PAUSE_POINTS)[number];
/** The signal that lets a paused job go on. */
export const RESUME_SIGNAL = 'SIGUSR2';
/** The log line (info) a paused job writes, with the field `point`. */
export const PAUSED_MESSAGE = 'test hook: paused until SIGUSR2';

/**
 * The pause of a run: `pause(point)` resolves at once unless `point` is the one named by
 * {@link TEST_PAUSE_ENV}; then it logs {@link PAUSED_MESSAGE} and waits for {@link RESUME_SIGNAL}.
 * @throws ConfigError when the variable is set without test hooks enabled, or names no point.
 */
export function pauseFrom(
  env: NodeJS.ProcessEnv,
  logger: Logger,
): (point: PausePoint) => Promise<void> {
  const raw = env[TEST_PAUSE_ENV];
  if (raw === undefined || raw === '') return () => Promise.resolve();
  if (env[TEST_HOOKS_ENV] !== 'enabled')
    throw new ConfigError(
      TEST_PAUSE_ENV,
      raw,
      `nothing outside tests: it holds the run, and is only accepted with ${TEST_HOOKS_ENV}=enabled`,
    );
  if (!(PAUSE_POINTS as readonly string[]).includes(raw))
    throw new ConfigError(TEST_PAUSE_ENV, raw, `one of ${PAUSE_POINTS.join(', ')}`);
  return (point) => {
    if (point !== raw) return Promise.resolve();
    // The listener is in place before the line is logged, so a test reacting to it cannot be
    // early. A signal listener does not keep Node's event loop alive: a timer does, meanwhile.
    const alive = setInterval(() => undefined, 60_000);
    const resumed = new Promise<void>((resolve) =>
      process.once(RESUME_SIGNAL, () => {
        clearInterval(alive);
        resolve();
      }),
    );
    logger.info(PAUSED_MESSAGE, { point });
    return resumed;
  };
}
