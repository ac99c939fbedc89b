// Fits the token estimator's margin (MARGINS in src/context/pieces.rs) on the tuning material ("tuning",
// "holdout2" and "holdout3"; never "holdout" or "holdout4"). The piece tables give each text's measured means; how far the exact
// count strays from them depends on how surely the tables fit the text, so the margin is a linear function of a
// text's features, one set of coefficients per group of texts (English-like, major European, Russian, no listed
// language with mostly other scripts, no listed language with mostly Latin letters). The fit minimises the share
// of texts under-counted by more than 10 % while keeping each set's mean absolute error under 7 % (a margin
// below the 8 % goal for text it was not fitted on)
// (coordinate descent from the coefficients in pieces.rs, which it prints unchanged while they are a local
// optimum; they were found by starting from a constant per group and refining).
//
// Usage: CTX_TOKEN_FEATURES=.bench/tokens/features.jsonl cargo test --release --lib context::tokens::calibration \
//          -- --ignored --nocapture   (the measured means and features of each tuning text)
//        node bench/tokens-margin.mjs   (prints the fitted MARGINS rows and their errors per set)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FEATURES_FILE = path.join(root, '.bench', 'tokens', 'features.jsonl');
const TUNING_SETS = ['tuning', 'holdout2', 'holdout3'];
const MAE_LIMIT = 0.07;
// MARGINS in pieces.rs (per mille), the starting point.
const START = [
  [967, 132, -29, -50, 3, 18, -27, 137],
  [1050, 109, -66, 24, -10, -743, -1431, -3],
  [1121, -43, 0, -3, -13, 0, -40, 0],
  [1040, 3, 83, 0, -21, 6, -31, 3],
  [1037, 0, 98, 12, -9, -491, -146, 44],
];
const LATIN_OTHER = 2;
const CJK = 4;
const OTHER_SCRIPT = 5;
const DENSE = 6;
const LAYOUT = 7;

/** The group and features (per mille) of a text, as pieces.rs `margin_per_mille` computes them. */
function features(s) {
  const total = Math.max(1, s.milli.reduce((a, b) => a + b, 0));
  const share = (m) => Math.floor((m * 1000) / total);
  const group = { '@en': 0, '@eu': 1, '@ru': 2 }[s.language] ?? (s.milli[LATIN_OTHER] * 10 < total * 4 ? 3 : 4);
  return {
    group,
    total,
    f: [
      1000,
      Math.trunc(((300 - Math.min(s.hits, 300)) * 1000) / 300),
      s.chars < 16 * s.lines ? 1000 : 0,
      s.nonascii,
      share(s.milli[LAYOUT]),
      share(s.milli[CJK] + s.milli[OTHER_SCRIPT]),
      share(s.milli[DENSE]),
      s.unfamiliar,
    ],
  };
}

const samples = fs
  .readFileSync(FEATURES_FILE, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line))
  .filter((s) => TUNING_SETS.includes(s.set))
  .map((s) => ({ ...s, ...features(s) }));

function estimate(margins, s) {
  const margin = Math.max(500, Math.trunc(margins[s.group].reduce((a, c, i) => a + c * s.f[i], 0) / 1000));
  return Math.ceil((s.total * margin) / 1e6);
}

function report(margins) {
  const out = {};
  for (const set of TUNING_SETS) {
    const errors = samples.filter((s) => s.set === set).map((s) => (estimate(margins, s) - s.o200k) / s.o200k);
    out[set] = {
      under: errors.filter((e) => e < -0.1).length / errors.length,
      mae: errors.reduce((a, e) => a + Math.abs(e), 0) / errors.length,
    };
  }
  return out;
}

function cost(margins) {
  let c = 0;
  for (const { under, mae } of Object.values(report(margins))) c += under + Math.max(0, mae - MAE_LIMIT) * 50 + mae * 0.1;
  return c;
}

let best = START.map((row) => [...row]);
let bestCost = cost(best);
for (let round = 0; round < 30; round++) {
  let improved = false;
  for (let g = 0; g < best.length; g++) {
    for (let i = 0; i < best[g].length; i++) {
      for (const step of [40, -40, 10, -10, 3, -3]) {
        const trial = best.map((row) => [...row]);
        trial[g][i] += step;
        const c = cost(trial);
        if (c < bestCost) [best, bestCost, improved] = [trial, c, true];
      }
    }
  }
  if (!improved) break;
}
for (const [set, { under, mae }] of Object.entries(report(best))) {
  console.log(`${set.padEnd(9)} under >10% ${(under * 100).toFixed(2)}%  MAE ${(mae * 100).toFixed(2)}%`);
}
console.log('MARGINS (pieces.rs):');
for (const row of best) console.log(`    [${row.join(', ')}],`);
