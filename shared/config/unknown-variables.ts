/**
 * `LEGO_*` variables that no setting reads: a misspelt name (`LEGO_EMIAL`) is otherwise silently
 * ignored and its setting keeps its default. Pure: the environment is passed in.
 */
import { closestName } from './closest-name.js';
import type { SettingTable } from './setting.js';

/** A variable no setting reads, and the known one it most likely means (if any is close). */
export interface UnknownVariable {
  name: string;
  closest: string | undefined;
}

/**
 * Every `LEGO_*` variable in `env` that is neither a setting nor an alias in any of `tables`
 * (pass both programs' tables: they share one settings ConfigMap), sorted by name.
 */
export function findUnknownVariables(
  env: NodeJS.ProcessEnv,
  tables: readonly SettingTable[],
): UnknownVariable[] {
  const known = new Set<string>();
  for (const table of tables)
    for (const spec of Object.values(table))
      for (const name of [spec.env, ...(spec.aliases ?? [])]) known.add(name);
  return Object.keys(env)
    .filter((name) => name.startsWith('LEGO_') && !known.has(name))
    .sort()
    .map((name) => ({ name, closest: closestName(name, known) }));
}

/** The warning for one unknown variable, naming the closest known setting when there is one. */
export function describeUnknownVariable({ name, closest }: UnknownVariable): string {
  return closest
    ? `${name} is not a setting and is ignored; did you mean ${closest}?`
    : `${name} is not a setting and is ignored (--help lists the settings)`;
}
