/**
 * The nearest spelling among known names, for "did you mean" hints on a misspelt setting.
 * Pure: no I/O.
 */

/**
 * Edit distance with adjacent transpositions (optimal string alignment): `LEGO_EMIAL` is one
 * edit from `LEGO_EMAIL`, as a typist would count it, where plain Levenshtein counts two.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known name closest to `word` (case-insensitive), or `undefined` when none is close enough
 * to be a plausible misspelling: at most a third of the word's length in edits (at least 2), so
 * `LEGO_EMIAL` finds `LEGO_EMAIL` but `LEGO_SOMETHING_ELSE` finds nothing. Ties go to the name
 * listed first.
 */
export function closestName(word: string, known: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(word.toUpperCase(), name.toUpperCase());
    if (distance <= limit && (best === undefined || distance < best.distance))
      best = { name, distance };
  }
  return best?.name;
}
