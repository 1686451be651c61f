/**
 * The program's version: `version` of the package.json beside the code. The same file sits two
 * levels up from the source (`jobs/main.ts`) and three from the build (`dist/jobs/main.js`, and
 * `/app/package.json` in the image), so it is looked for upwards from the caller.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The nearest package.json's version above `fromDirectory`; `unknown` when none is found. */
export function packageVersion(fromDirectory: string): string {
  let directory = fromDirectory;
  for (;;) {
    const candidate = join(directory, 'package.json');
    if (existsSync(candidate)) {
      try {
        const { version } = JSON.parse(readFileSync(candidate, 'utf8')) as { version?: unknown };
        return typeof version === 'string' ? version : 'unknown';
      } catch {
        return 'unknown';
      }
    }
    const parent = dirname(directory);
    if (parent === directory) return 'unknown';
    directory = parent;
  }
}
