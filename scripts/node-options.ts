/**
 * The Node options the manifests start each program with: its container's `args` before the
 * program's file (manifests/cronjob.yaml for the job, manifests/responder.yaml for the
 * responder). One reading for whatever must start a program as the cluster does: the compile
 * cache's warming in both image builds (V8 files its code cache under a tag that some of these
 * flags change, `--optimize-for-size` and `--expose-gc` among them: a cache warmed without them
 * is never read), the benchmarks, and the test that keeps the Dockerfile in step.
 *
 *   node --import tsx scripts/node-options.ts job|responder
 *
 * prints them on one line, separated by spaces (empty when there are none).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';

/** The two programs, by the manifest and container that start each. */
const PROGRAMS = {
  job: { file: 'cronjob.yaml', kind: 'CronJob' },
  responder: { file: 'responder.yaml', kind: 'Deployment' },
} as const;

export type Program = keyof typeof PROGRAMS;

interface PodSpecHolder {
  kind?: string;
  spec?: {
    template?: { spec?: { containers?: { args?: string[] }[] } };
    jobTemplate?: { spec?: { template?: { spec?: { containers?: { args?: string[] }[] } } } };
  };
}

/**
 * `program`'s Node options in the manifests under `root` (this checkout by default; a baseline
 * tree has its own).
 * @throws Error when the manifest has no such container or it has no `args`.
 */
export function manifestNodeOptions(
  program: Program,
  root: string = join(import.meta.dirname, '..'),
): string[] {
  const { file, kind } = PROGRAMS[program];
  const documents = loadAll(readFileSync(join(root, 'manifests', file), 'utf8')) as PodSpecHolder[];
  const spec = documents.find((d) => d.kind === kind)?.spec;
  const args = (spec?.jobTemplate?.spec?.template ?? spec?.template)?.spec?.containers?.[0]?.args;
  if (args === undefined) throw new Error(`manifests/${file}: no args for the ${kind}'s container`);
  const script = args.findIndex((arg) => !arg.startsWith('-'));
  return script === -1 ? [...args] : args.slice(0, script);
}

if (import.meta.filename === process.argv[1]) {
  const program = process.argv[2];
  if (program !== 'job' && program !== 'responder') {
    process.stderr.write('usage: node-options.ts job|responder\n');
    process.exit(2);
  }
  process.stdout.write(`${manifestNodeOptions(program).join(' ')}\n`);
}
