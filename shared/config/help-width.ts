/**
 * The width `--help` is wrapped to: the terminal's, at most 120 columns; 120 when the output is
 * not a terminal (a pipe, a file, `kubectl exec` without `-t`). One function, so that the
 * parsers (command-line.ts) and the job's help rendered at build time (jobs/help-table.ts)
 * agree on it.
 */
export const HELP_MAX_WIDTH = 120;

/** The wrap width for a terminal of `columns` columns (`undefined` or 0: not a terminal). */
export function helpWidth(columns: number | undefined): number {
  return Math.min(HELP_MAX_WIDTH, columns || HELP_MAX_WIDTH);
}
