/**
 * Every command's entry, and what `main` needs to look for an install, in one module that `main`
 * imports once a command is chosen. One dynamic import instead of one per command lets esbuild
 * put the commands' shared code in a few chunks: a run loaded 14 files instead of 26 (11 since
 * each program is built on its own), and reached its first API request about 7 ms (some 10%)
 * sooner on Node 24 (issue 13; docs/design.md, "The job's start and heap"). `--help` and a
 * settings error still load none of it.
 */
export { runCommand } from './run-command.js';
export { planCommand } from './plan-command.js';
export { statusCommand } from './status-command.js';
export { retryCommand } from './retry-command.js';
export { renewCommand } from './renew-command.js';
export { checkRoutesCommand } from './check-routes-command.js';
export { kubeClient } from './wiring.js';
export { installHint } from './install-hint.js';
export { InstallSearch } from '../kube/install-search.js';
