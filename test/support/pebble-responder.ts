/**
 * The responder Pebble validates against. Pebble's validator dials one port on 127.0.0.1
 * (testEnv().pebble.httpPort), so a test file has at most one such responder at a time: starting
 * one for a new scene stops the previous one first, and the file's `after` hook stops the last.
 *
 *   after(stopPebbleResponder);
 *   const responder = await startPebbleResponder(legoNamespace);
 */
import { testEnv } from '../env/context.js';
import {
  startResponderProcess,
  type ResponderProcess,
  type ResponderProcessOptions,
} from './responder-process.js';

let current: ResponderProcess | undefined;

/**
 * Starts the responder process watching `namespace`'s challenge ConfigMap on Pebble's validation
 * port, after stopping the one started before (if any). `options` may add e.g. a kubeconfig.
 */
export async function startPebbleResponder(
  namespace: string,
  options: Omit<ResponderProcessOptions, 'namespace' | 'port' | 'host'> = {},
): Promise<ResponderProcess> {
  await stopPebbleResponder();
  current = await startResponderProcess({
    ...options,
    namespace,
    port: testEnv().pebble.httpPort,
    host: '127.0.0.1',
  });
  return current;
}

/** Stops the responder on Pebble's port, if one runs. */
export async function stopPebbleResponder(): Promise<void> {
  const running = current;
  current = undefined;
  await running?.stop();
}
