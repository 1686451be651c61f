/**
 * `retry <namespace>/<secret> | --all-failed`: forget a failing certificate's back-off; the next
 * run tries at once (a `_retry.<namespace>.<secret>` key
 * of the status ConfigMap, request-command.ts).
 */
import type { Logger } from '../../shared/logger.js';
import type { JobSettings } from '../config.js';
import { requestCommand } from './request-command.js';
import type { CommandContext } from './wiring.js';

/** See {@link requestCommand}; `allFailed` is `--all-failed`. */
export function retryCommand(
  settings: JobSettings,
  logger: Logger,
  context: CommandContext,
  options: { certificate?: string | undefined; allFailed?: boolean | undefined },
): Promise<number> {
  return requestCommand('retry', settings, logger, context, {
    certificate: options.certificate,
    all: options.allFailed,
  });
}
