/**
 * The Dockerfile read as instructions, for the tests that keep it in step with the manifests
 * (test/deploy/dockerfile.test.ts) and with the image built without Docker (test/image/).
 */

/** One instruction of a Dockerfile. */
export interface Instruction {
  keyword: string;
  /** The arguments as written, continuation lines joined. */
  text: string;
  stage: number;
}

/** The Dockerfile's instructions, with comments dropped and `\` continuations joined. */
export function parseDockerfile(source: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const match = /^(\w+)\s+(.*)$/s.exec(full);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    if (keyword === 'FROM') stage++;
    out.push({ keyword, text: match[2]!, stage });
  }
  return out;
}

/** The arguments of an exec-form instruction (`["a", "b"]`), or undefined for shell form. */
export function execForm(text: string): string[] | undefined {
  if (!text.trim().startsWith('[')) return undefined;
  return JSON.parse(text) as string[];
}

/**
 * The `key=value` pairs of an ENV or LABEL instruction, values unquoted (`"a b"` -> `a b`).
 * The legacy `ENV key value` form is not supported and gives no pair.
 */
export function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [, key, value] of text.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    out[key!] = value!.startsWith('"') ? (JSON.parse(value!) as string) : value!;
  }
  return out;
}
