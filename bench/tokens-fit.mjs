// Fits the token estimator's piece table (src/context/token_table.rs) to exact o200k_base counts on the tuning
// material of bench/tokens-samples.mjs: the "tuning" samples, plus "holdout2" for the kinds "tuning" has too few
// pieces of (never "holdout" or "holdout4"; "holdout3", tuning material since round 4, only tunes the margin).
//
// o200k_base first splits text with a regular expression into pieces (a word with the space or punctuation
// before it, up to three digits, a punctuation run, a line break run, a space run) and then encodes each piece on
// its own, so a text's tokens are the sum of its pieces' tokens. The estimator splits text the same way and looks
// each piece's tokens up by its kind and length: this script measures, per kind and length, the mean tokens of a
// piece, from each piece of the tuning samples encoded alone.
//
// Usage: node bench/tokens-fit.mjs  (writes src/context/token_table.rs; then `cargo test --lib
// context::tokens::calibration -- --ignored --nocapture` prints the errors on the tuning material, and
// bench/tokens-margin.mjs fits the margin)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getEncoding } from 'js-tiktoken';
import { loadSamples } from './tokens-samples.mjs';
import { familiarTrigrams, unfamiliarWord } from './tokens-trigrams.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const O200K_PIECES =
  /[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;
export const MAX_LEN = 24;
/** The tuning material: family A's tuning share, and holdout2 since the second round looked at it. The tables
 * are measured on "tuning"; holdout2 only adds the kinds "tuning" has too few pieces of (scripts such as Ethiopic,
 * Tamil, Khmer, Georgian), so its Debian changelogs and rare-language catalogues do not shift the common means. */
export const TUNING_SETS = ['tuning', 'holdout2'];

const SCRIPTS = [
  ['cyrillic', /\p{Script=Cyrillic}/u],
  ['greek', /\p{Script=Greek}/u],
  ['arabic', /\p{Script=Arabic}/u],
  ['hebrew', /\p{Script=Hebrew}/u],
  ['kana', /[\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ['han', /\p{Script=Han}/u],
  ['hangul', /\p{Script=Hangul}/u],
  ['thai', /\p{Script=Thai}/u],
  ['devanagari', /\p{Script=Devanagari}/u],
  ['latin', /\p{Script=Latin}/u],
];

/** The estimator's base64/hex test (tokens.rs `word_class`): runs that get the dense tables. */
function denseRun(word) {
  const hexBody = word.replace(/^0[xX]/, '');
  const hexDigits = [...hexBody].filter((c) => /[0-9a-fA-F]/.test(c)).length;
  if (hexDigits >= 16 && /^[0-9a-fA-F-]+$/.test(hexBody) && /[0-9]/.test(hexBody)) return true;
  if (word.length < 20) return false;
  const kind = (c) => (/[A-Z]/.test(c) ? 0 : /[a-z]/.test(c) ? 1 : /[0-9]/.test(c) ? 2 : 3);
  const symbols = [...word].filter((c) => kind(c) === 3).length;
  let changes = 0;
  for (let i = 1; i < word.length; i++) {
    const a = kind(word[i - 1]);
    const b = kind(word[i]);
    if (a !== b && !(a === 0 && b === 1)) changes++;
  }
  return /[A-Za-z]/.test(word) && /[0-9]/.test(word) && symbols * 10 <= word.length && changes * 10 >= (word.length - 1) * 3;
}

/** Per UTF-16 index: whether the character is in a dense run. */
function denseMask(text) {
  const mask = new Uint8Array(text.length);
  for (const m of text.matchAll(/[A-Za-z0-9+/=_-]+/g)) if (denseRun(m[0])) mask.fill(1, m.index, m.index + m[0].length);
  return mask;
}

/** Words common in English prose and code, in the major European languages, and in Russian (pieces.rs holds the
 * same lists). o200k_base has more and longer tokens for these languages than for the rest written in the same
 * letters: a text where one of these lists makes a tenth of the words or more gets that language's tables. */
export const LANGUAGES = [
  ['en', 'the of and to in is that for it as with be on not this by are or from at an which if you can will all was has have its but when file use used one may set see return value default true false none null self def function const let var import new name type class string int data error options'],
  ['eu', 'de la le les des du et est une un pas pour dans que qui sur avec ce il der die das und ist nicht ein eine zu den von mit sich auf für im dem el los las del y es por con para se no al lo como más o os da do em um uma não com são di che è per della gli het een van niet zijn op te'],
  ['ru', 'и в не на что с по для как это из или к от при если быть все может файл'],
].map(([name, words]) => [name, new Set(words.split(' '))]);
export const LANGUAGE_PER_MILLE = 100;

export function languageOf(text) {
  let words = 0;
  const hits = LANGUAGES.map(() => 0);
  for (const m of text.matchAll(/\p{L}+/gu)) {
    words++;
    const word = m[0].toLowerCase();
    LANGUAGES.forEach(([, set], i) => {
      if (set.has(word)) hits[i]++;
    });
  }
  let best = '';
  let bestHits = 0;
  LANGUAGES.forEach(([name], i) => {
    if (hits[i] > bestHits && hits[i] * 1000 >= words * LANGUAGE_PER_MILLE) [best, bestHits] = [name, hits[i]];
  });
  return best;
}

/** The table key of a piece (as pieces.rs computes it) and its length in characters. An ASCII Latin word with a
 * trigram o200k_base's vocabulary knows little (`familiar`, from bench/tokens-trigrams.mjs) gets its own tables
 * (`~u`): such words split into more tokens than others of the same length. */
export function pieceKey(piece, dense, language, hasKana, familiar) {
  const chars = [...piece];
  const first = chars[0];
  if (/\p{N}/u.test(first)) return [dense ? 'digits-dense' : 'digits', chars.length];
  if (/[\r\n]/.test(piece) && /^\s+$/.test(piece)) return ['newlines', chars.length];
  if (/^\s+$/.test(piece)) return ['spaces', chars.length];
  const letters = chars.filter((c) => /[\p{L}\p{M}]/u.test(c));
  const lang = language && language !== 'ru' ? `@${language}` : '';
  if (letters.length === 0) return [`${piece.startsWith(' ') ? 'punct-spaced' : 'punct'}${lang}`, chars.length];
  const prefix = /[\p{L}\p{M}]/u.test(first) ? '' : first === ' ' ? ' ' : '.';
  const word = letters.join('');
  const head = String.fromCodePoint(word.codePointAt(0));
  const script = SCRIPTS.find(([, re]) => re.test(head))?.[0] ?? `blk${(word.codePointAt(0) >> 7).toString(16)}`;
  let shape = '';
  if (script === 'latin') {
    const ascii = /^[A-Za-z']+$/.test(word);
    shape = !ascii ? '-ext' : /^[a-z']+$/.test(word) ? '-lower' : /^[A-Z][a-z']+$/.test(word) ? '-cap' : '-upper';
    shape += lang;
  }
  if (script === 'cyrillic' && language === 'ru') shape = '@ru';
  // Han characters of a text without kana are Chinese, whose words o200k_base covers less than Japanese kanji's.
  if (script === 'han' && !hasKana) shape = '@zh';
  const unfamiliar = !dense && script === 'latin' && /^[A-Za-z]+$/.test(word) && unfamiliarWord(familiar, word);
  return [`${dense ? 'dense' : script + shape}${prefix === ' ' ? '+sp' : prefix === '.' ? '+p' : ''}${unfamiliar ? '~u' : ''}`, letters.length];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o200k = getEncoding('o200k_base');
  const familiar = familiarTrigrams();
  const samples = loadSamples().filter((s) => TUNING_SETS.includes(s.set));
  const statsBySet = new Map(TUNING_SETS.map((set) => [set, new Map()])); // set → key → [count, tokens] per length
  const cache = new Map();
  let checked = 0;
  for (const sample of samples) {
    const stats = statsBySet.get(sample.set);
    const mask = denseMask(sample.text);
    const language = languageOf(sample.text);
    const hasKana = /[\p{Script=Hiragana}\p{Script=Katakana}]/u.test(sample.text);
    let total = 0;
    for (const m of sample.text.matchAll(O200K_PIECES)) {
      const piece = m[0];
      let tokens = cache.get(piece);
      if (tokens === undefined) {
        tokens = o200k.encode(piece, 'all').length;
        if (cache.size < 2e6) cache.set(piece, tokens);
      }
      total += tokens;
      const [key, length] = pieceKey(piece, mask[m.index + piece.length - 1] === 1, language, hasKana, familiar);
      const row = stats.get(key) ?? Array.from({ length: MAX_LEN + 1 }, () => [0, 0]);
      const cell = row[Math.min(length, MAX_LEN)];
      cell[0] += 1;
      cell[1] += length > MAX_LEN ? (tokens * MAX_LEN) / length : tokens;
      stats.set(key, row);
    }
    if (total === sample.o200k) checked++;
  }
  console.log(`${samples.length} tuning samples; pieces encoded alone add up to the exact count in ${checked}`);
  // Lengths seen fewer than 20 times take the kind's tokens per character over all lengths.
  const lines = [];
  const piecesOf = (row) => row.reduce((n, [count]) => n + count, 0);
  const stats = new Map(statsBySet.get('tuning'));
  for (const [key, row] of statsBySet.get('holdout2')) if (piecesOf(stats.get(key) ?? []) < 30) stats.set(key, row);
  for (const [key, row] of [...stats].sort()) {
    const seen = row.reduce((n, [count]) => n + count, 0);
    if (seen < 30) continue;
    const chars = row.reduce((n, [count], length) => n + count * length, 0);
    const perChar = row.reduce((n, [, tokens]) => n + tokens, 0) / chars;
    const milli = row.map(([count, tokens], length) => {
      if (length === 0) return 0;
      if (count >= 20) return Math.round((tokens / count) * 1000);
      // A piece is one token at least.
      return Math.max(1000, Math.round(perChar * length * 1000));
    });
    lines.push(`    ("${key}", [${milli.join(', ')}]),`);
    console.log(`${key.padEnd(22)} ${String(seen).padStart(8)} pieces  ${milli.slice(1, 9).map((x) => (x / 1000).toFixed(2)).join(' ')} …`);
  }
  const out = `//! Mean o200k_base tokens of a piece by kind and length in characters (× 1000; index = length, the last for
//! ${MAX_LEN} characters or more, per ${MAX_LEN} characters), measured by \`bench/tokens-fit.mjs\` on the tuning material of
//! \`bench/tokens-samples.mjs\`. Generated: edit the fitter, not this file.

pub const MAX_LEN: usize = ${MAX_LEN};

#[rustfmt::skip]
pub const PIECE_TOKENS_X1000: &[(&str, [u32; ${MAX_LEN + 1}])] = &[
${lines.join('\n')}
];
`;
  fs.writeFileSync(path.join(root, 'src', 'context', 'token_table.rs'), out);
  console.log('→ src/context/token_table.rs');
}
