/**
 * `renew <namespace>/<secret> | --all`: the next run re-issues the certificate although it is
 * valid, with the reason `RenewalRequested` (a `_renew.<namespace>.<secret>` key
 * of the status ConfigMap, request-command.ts).
 */
import type { Logger } from '../../shared/logger.js';
import type { JobSettings } from '../config.js';
import { requestCommand } from './request-command.js';
import type { CommandContext } from './wiring.js';

/** See {@link requestCommand}. */
export function renewCommand(
  settings: JobSettings,
  logger: Logger,
  context: CommandContext,
  options: { certificate?: string | undefined; all?: boolean | undefined },
): Promise<number> {
  return requestCommand('renew', settings, logger, context, options);
}
