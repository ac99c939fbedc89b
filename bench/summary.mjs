// Rows for the performance table of `npm run bench` (bench/all.mjs): a bench run with BENCH_SUMMARY=<file> appends
// each of its rows there as one JSON line; run alone, it only prints its own report.
import fs from 'node:fs';
import os from 'node:os';

/**
 * @param {object} row
 * @param {string} row.name      what was measured, with the peer in parentheses
 * @param {number} [row.ratio]   ctxpack time / peer time (below 1: ctxpack is faster)
 * @param {string} [row.value]   a figure without a peer (packs/s, seconds)
 * @param {number} [row.rss]     peak RSS of ctxpack, MiB
 * @param {string} row.goal      the goal, as text
 * @param {boolean} row.met      whether the figures meet it (peak RSS under 256 MiB included)
 */
export function recordRow(row) {
  const file = process.env.BENCH_SUMMARY;
  if (!file) return;
  const load = os.loadavg()[0].toFixed(2);
  fs.appendFileSync(file, `${JSON.stringify({ ...row, load })}\n`);
}

/** Peak RSS of every row stays under this (the project's memory rule). */
export const RSS_LIMIT_MIB = 256;

/**
 * Whether figures meet a goal written as the issue writes it: "<= 1.1" (ratio), "< 0.3 s" (seconds),
 * ">= 100 packs/s" (a rate), "< 128 MiB" (peak RSS), or several joined by commas. Peak RSS must also stay under
 * RSS_LIMIT_MIB.
 * @param {string} goal
 * @param {{ratio?: number, seconds?: number, rate?: number, rss?: number}} figures
 */
export function meets(goal, { ratio, seconds, rate, rss }) {
  if (rss !== undefined && rss >= RSS_LIMIT_MIB) return false;
  return goal.split(',').every((part) => {
    const [, op, number, unit = ''] = /^\s*(<=|<|>=)\s*([\d.]+)\s*(s|MiB|packs\/s|MB\/s)?/.exec(part) ?? [];
    if (op === undefined) return true; // "keep", "—": no figure to check
    const actual = { '': ratio, s: seconds, MiB: rss, 'packs/s': rate, 'MB/s': rate }[unit];
    if (actual === undefined) return false;
    const limit = Number(number);
    return op === '<=' ? actual <= limit : op === '<' ? actual < limit : actual >= limit;
  });
}
