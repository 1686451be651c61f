/**
 * The nearest spelling among known names, for "did you mean" hints on a misspelt setting.
 * Pure: no I/O.
 */

/**
 * Edit distance with adjacent transpositions (optimal string alignment): `LEGO_EMIAL` is one
 * edit from `LEGO_EMAIL`, as a typist would count it, where plain Levenshtein counts two.
 */
export function editDistance(a: string, b: string): number {
  // Three rows of the table: two back (for transpositions), one back, and the current one.
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, (before[j - 2] ?? 0) + 1);
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
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
