// Progress reporting. Library functions take an `onProgress({phase, bytes, totalBytes})` callback; the CLI
// turns it into a bar on stderr, drawn only on a TTY (and never with --json), so pipes and logs stay clean.
import { formatBytes, formatDuration } from './format.mjs';

const REDRAW_INTERVAL_MS = 100;

/**
 * An accumulator for one phase: call it with each chunk's byte count. Undefined when nobody listens.
 * @param {((event: {phase: string, bytes: number, totalBytes: number}) => void) | undefined} onProgress
 */
export function phaseReporter(onProgress, phase, totalBytes) {
  if (!onProgress) return undefined;
  let bytes = 0;
  onProgress({ phase, bytes, totalBytes });
  return (chunkBytes) => {
    bytes += chunkBytes;
    onProgress({ phase, bytes, totalBytes });
  };
}

/**
 * A bar on `stream` when it is a TTY and `enabled`; otherwise `onProgress` is undefined and nothing is drawn.
 * The bar is one line cut to the terminal's width (a wrapped line could not be redrawn in place); `clear`
 * takes it off the screen before something else writes there (the command `run` starts).
 * @returns {{onProgress?: (event: object) => void, print: (line: string) => void, clear: () => void, stop: () => void}}
 */
export function createProgressBar({ stream = process.stderr, enabled = true } = {}) {
  if (!enabled || !stream.isTTY) return { onProgress: undefined, print: (line) => stream.write(`${line}\n`), clear() {}, stop() {} };
  let phase;
  let phaseStart = 0;
  let lastDraw = 0;
  let drawn = false;

  const clear = () => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  const draw = ({ bytes, totalBytes }) => {
    const elapsed = Date.now() - phaseStart;
    const rate = elapsed > 0 ? (bytes / elapsed) * 1000 : 0;
    const fraction = totalBytes > 0 ? Math.min(bytes / totalBytes, 1) : 1;
    const eta = rate > 0 && totalBytes > bytes ? `ETA ${formatDuration(((totalBytes - bytes) / rate) * 1000)}` : '';
    const text = `${formatBytes(bytes)} / ${formatBytes(totalBytes)}  ${formatBytes(Math.round(rate))}/s  ${eta}`;
    const label = phase.padEnd(7);
    const barWidth = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - text.length - 12));
    const filled = Math.round(fraction * barWidth);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}`;
    const line = `${label}[${bar}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${text}`.trimEnd();
    // One column short of the width: a line that fills the last column wraps on some terminals.
    stream.write(`\r\x1b[2K${line.slice(0, Math.max(1, (stream.columns ?? 80) - 1))}`);
    drawn = true;
  };

  let last;
  return {
    onProgress(event) {
      last = event;
      const now = Date.now();
      if (event.phase !== phase) {
        clear();
        phase = event.phase;
        phaseStart = now;
        lastDraw = 0;
      }
      const finished = event.bytes >= event.totalBytes;
      if (finished || now - lastDraw >= REDRAW_INTERVAL_MS) {
        lastDraw = now;
        draw(event);
      }
    },
    /** Print a line (a warning, a retry) above the bar, then draw the bar again. */
    print(line) {
      clear();
      stream.write(`${line}\n`);
      if (last) draw(last);
    },
    /** Take the bar off the screen until the next progress event. */
    clear() {
      clear();
      last = undefined;
    },
    stop: clear,
  };
}
