/**
 * The programs as the image runs them: `dist/jobs/main.js` and `dist/responder/main.js`, the
 * bundles `npm run build` writes (scripts/build-dist.ts). test/run-tests.sh builds them before
 * any test runs, so every process a test starts is the code the image ships, not the TypeScript
 * sources through a loader.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/** The absolute path of a built entry point; throws, saying how to build it, if it is missing. */
export function builtEntry(program: 'jobs' | 'responder'): string {
  const path = join(ROOT, 'dist', program, 'main.js');
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: run the tests with \`npm test\` (test/run-tests.sh builds it), or \`npm run build\` first`,
    );
  }
  return path;
}
