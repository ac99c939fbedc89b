// "Did you mean …?" for misspelled commands, subcommands and options: the closest candidate by edit distance
// (a swap of two neighbouring letters counts as one edit), or the only one the word begins.

/**
 * The candidate `word` most likely meant, or undefined when none is close: at most one edit for words of up
 * to five letters, two up to eight, three beyond; else the single candidate that starts with `word` (3+ letters).
 * @param {string} word
 * @param {string[]} candidates
 */
export function closest(word, candidates) {
  const allowed = word.length <= 5 ? 1 : word.length <= 8 ? 2 : 3;
  let best;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  if (bestDistance <= allowed) return best;
  const extending = candidates.filter((candidate) => word.length >= 3 && candidate.startsWith(word));
  return extending.length === 1 ? extending[0] : undefined;
}

/** `; did you mean <candidate>?`, or nothing. `show` formats the candidate. */
export function didYouMean(word, candidates, show = (candidate) => candidate) {
  const match = closest(word, candidates);
  return match === undefined ? '' : `; did you mean ${show(match)}?`;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a, b) {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
    }
  }
  return rows[a.length][b.length];
}
