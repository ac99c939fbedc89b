// estimateTokens is o200k_base's exact count: equal to js-tiktoken's (special-token text counted as text) on a few
// hundred seeded random strings mixing scripts, marks, emoji, digits, punctuation and whitespace, on every code
// point, on long runs, and on real files of this machine; and the core's generated data (vocabulary, Unicode
// classes) is what its generators make from js-tiktoken and this Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { getEncoding } from 'js-tiktoken';
import { PACKAGE_DIR, REPO_ROOT } from './helpers.mjs';
import { prng } from '../../bench/prng.mjs';
import { layout, VOCABULARY_FILE } from '../../bench/tokens-vocabulary.mjs';
import { source } from '../../bench/tokens-unicode.mjs';

const core = await import(path.join(PACKAGE_DIR, 'lib', 'core-node.mjs'));
const o200k = getEncoding('o200k_base');
const exact = (text) => o200k.encode(text, [], []).length;

/** The texts whose counts differ, with both counts. */
function disagreements(texts) {
  return texts.flatMap((text) => {
    const [mine, theirs] = [core.estimateTokens(text), exact(text)];
    return mine === theirs ? [] : [`${JSON.stringify(text.slice(0, 80))}: ${mine} vs js-tiktoken ${theirs}`];
  });
}

test('the committed vocabulary is what bench/tokens-vocabulary.mjs makes from js-tiktoken', () => {
  assert.ok(zlib.inflateRawSync(fs.readFileSync(VOCABULARY_FILE)).equals(layout()));
});

test("the committed Unicode classes are what bench/tokens-unicode.mjs makes from this Node's RegExp", (t) => {
  const committed = fs.readFileSync(path.join(REPO_ROOT, 'src', 'context', 'o200k', 'unicode_tables.rs'), 'utf8');
  const version = committed.match(/\(Unicode ([\d.]+)\)/)[1];
  if (version !== process.versions.unicode) return t.skip(`tables from Unicode ${version}, this Node has ${process.versions.unicode}`);
  assert.equal(committed, source());
});

test('counts equal js-tiktoken on seeded random mixes of scripts, digits, punctuation and whitespace', () => {
  const random = prng(13);
  const words = [
    'the', 'The', 'THE', 'context', 'packet', 'HTTPRequest', 'fooBar', 'snake_case', 'don', 'it', 'IT', 'We', 'straße',
    'ÄÖÜ', 'ünïcödé', 'Привет', 'МИР', 'мир', 'Ελληνικά', 'ΣΊΣΥΦΟΣ', 'مرحبا', 'שלום', 'नमस्ते', 'ไทย', 'ქართული',
    '漢字', '東京都', 'かな', 'カタカナ', '한국어', 'ǅemal', 'ǈ', 'ʰʲ', 'ꜰ', 'e\u0301', '\u0301', 'a\u0308\u0304', 'İstanbul',
  ];
  const pieces = [
    "'s", "'S", "'t", "'re", "'RE", "'Ve", "'m", "'ll", "'LL", "'lL", "'d", "'D", "'", "'x", '1', '12', '1234567', '٣٤٥٦', '²³',
    'Ⅻ', '½', '.', ',', '...', '!?', '()', '{}', '=>', '//', '/*', '#', '$', '%', '-', '—', '«»', '„', '“', '…', '。', '、',
    '€', '😀', '👍🏽', '👨‍👩‍👧', '🇫🇷', '\u200d', '\ufeff', '\u00ad', '<|endoftext|>', '<|endofprompt|>', '\\n', '0x1F',
  ];
  const spaces = [' ', ' ', ' ', '  ', '   ', '\t', '\t\t', '\n', '\n\n', '\r\n', '\r\n\r\n', ' \n', '  \n  ', '\r', '\u00a0', '\u3000', '\u2003', '\u2028', '\v', '\f', '\u0085'];
  const randomCodePoint = () => {
    for (;;) {
      const cp = random.next() < 0.7 ? random.int(0x3000) : random.int(0x10ffff);
      if (cp < 0xd800 || cp > 0xdfff) return String.fromCodePoint(cp);
    }
  };
  const texts = [];
  for (let i = 0; i < 400; i++) {
    let text = '';
    const length = 1 + random.int(i < 200 ? 12 : 80);
    for (let k = 0; k < length; k++) {
      const r = random.next();
      text += r < 0.35 ? random.pick(words) : r < 0.6 ? random.pick(pieces) : r < 0.85 ? random.pick(spaces) : randomCodePoint();
    }
    texts.push(text);
  }
  assert.deepEqual(disagreements(texts), []);
});

test('counts equal js-tiktoken around every code point of planes 0, 1 and 14, and every 61st of the others', () => {
  // Each text: 256 code points, each before and after a letter, after a space and a digit, and doubled. (Every code
  // point of all 17 planes agreed when this was written; the unassigned planes take long to check.)
  const texts = [];
  for (let base = 0; base <= 0x10ffff; base += 256) {
    if (base >= 0xd800 && base <= 0xdfff) continue;
    const step = base < 0x20000 || (base >= 0xe0000 && base < 0xf0000) ? 1 : 61;
    let text = '';
    for (let cp = base; cp < base + 256; cp += step) {
      const c = String.fromCodePoint(cp);
      text += `${c}a${c} ${c}${c}1${c}A's `;
    }
    texts.push(text);
  }
  assert.deepEqual(disagreements(texts), []);
});

test('counts equal js-tiktoken on long runs (the heap merge) and on real files of this machine', () => {
  const texts = [
    ' '.repeat(1500),
    ' '.repeat(1500) + 'x',
    '\n'.repeat(1000),
    'a'.repeat(1200),
    '='.repeat(1000),
    'Ab'.repeat(600),
    '漢字かなカタカナ한국어'.repeat(40),
    'xqzjvkwpfghmbt'.repeat(60),
  ];
  const candidates = [
    '/usr/share/common-licenses/GPL-3',
    '/usr/share/common-licenses/Apache-2.0',
    '/usr/share/i18n/locales/ja_JP',
    '/usr/share/i18n/locales/ru_RU',
    '/usr/share/i18n/locales/zh_CN',
    '/usr/share/X11/locale/en_US.UTF-8/Compose',
    '/etc/services',
  ];
  const files = candidates.filter((file) => fs.existsSync(file));
  assert.ok(files.length >= 3, `only ${files.join(', ')}`);
  for (const file of files) texts.push(fs.readFileSync(file, 'utf8').slice(0, 60_000));
  for (const file of ['README.md', 'docs/context.md', 'src/context/tokens.rs']) texts.push(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8'));
  assert.deepEqual(disagreements(texts), []);
});
