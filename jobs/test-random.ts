/**
 * The job's random source (the renewal time drawn in an ARI window, RFC 9773 §4.2), and the one
 * way tests may fix it: {@link TEST_RANDOM_ENV} set to a number in [0, 1) makes every draw return
 * it. A test hook like the clock offset (jobs/test-clock.ts): refused unless
 * KUBE_LEGO_TEST_HOOKS is `enabled`.
 */
import { ConfigError } from '../shared/errors.js';
import { TEST_HOOKS_ENV } from './test-clock.js';

/** A fixed value for every random draw; test use only. */
export const TEST_RANDOM_ENV = 'KUBE_LEGO_TEST_RANDOM';

/**
 * Math.random, or the fixed test value.
 * @throws ConfigError when the value is set without test hooks, or is not a number in [0, 1).
 */
export function randomFrom(env: NodeJS.ProcessEnv): () => number {
  const raw = env[TEST_RANDOM_ENV];
  if (raw === undefined || raw === '') return Math.random;
  if (env[TEST_HOOKS_ENV] !== 'enabled')
    throw new ConfigError(
      TEST_RANDOM_ENV,
      raw,
      `nothing outside tests: it fixes the job's random draws, and is only accepted with ${TEST_HOOKS_ENV}=enabled`,
    );
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw.trim()) || !(value >= 0 && value < 1))
    throw new ConfigError(TEST_RANDOM_ENV, raw, 'a number from 0 up to (not including) 1');
  return () => value;
}
