import { cat } from '../cat.mjs';
import { LIMIT_HELP_LINES, LIMIT_OPTIONS, REGISTRY_HELP_LINES, REGISTRY_OPTIONS, connectionFrom, limitsFrom, usageError } from './shared.mjs';

const synopsis = 'cat <uri> <path> [--registry <ref>]';
const summary = 'print one file of a pack, verified, from the pantry or straight from a registry';
const details = `The file is checked against the digest in the pack's verified manifest; a symlink in the pack is
followed. A pack the pantry holds is read from there; otherwise from the registry, where only the compressed
blocks holding the file are downloaded (HTTP range requests through the layer's block index). A pack without
a block index, or a registry that ignores ranges, is read from the layer's start up to the file.
Files up to --max-buffer-bytes (default 64 MiB) are printed only once verified. Larger ones are printed as they
are read: if the check then fails, ctxpack reports the error and exits with status 1 after the bytes already
printed, so never use that output unless the exit status is 0.
With --json, prints what was read (path, size, digest, where from, bytes fetched) instead of the content.`;

export default {
  name: 'cat',
  synopsis,
  summary,
  details,
  options: { ...REGISTRY_OPTIONS, ...LIMIT_OPTIONS, 'max-buffer-bytes': { type: 'string' } },
  optionLines: [
    REGISTRY_HELP_LINES,
    '  --max-buffer-bytes <n>  largest file printed only after its check (default 67108864)',
    LIMIT_HELP_LINES,
  ],
  positionals: [2, 2],
  async run({ values, positionals, home, json, onEvent, streams }) {
    const [uri, path] = positionals;
    const stdout = json ? null : outputTo(streams.stdout);
    let result;
    try {
      result = await cat(uri, path, {
        home,
        registry: values.registry,
        ...connectionFrom(values),
        limits: limitsFrom(values),
        maxBufferBytes: maxBufferFrom(values),
        write: stdout ? stdout.write : () => {},
        onEvent,
      });
    } catch (error) {
      // The reader went away (`ctxpack cat … | head`): stop quietly, with the status a process killed by
      // SIGPIPE has, as cat and git do.
      if (error?.code === 'EPIPE') return { text: '', exitCode: 128 + 13 };
      throw error;
    } finally {
      stdout?.close();
    }
    const warnings = result.fallback ? [`the layer's block index was not used (${result.fallback}); read the layer from its start`] : [];
    return { text: '', warnings, json: result };
  },
};

function maxBufferFrom(values) {
  const given = values['max-buffer-bytes'];
  if (given === undefined) return undefined;
  const value = Number(given);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw usageError(`--max-buffer-bytes must be a whole number of bytes, got ${JSON.stringify(given)}`, 'e.g. --max-buffer-bytes 268435456');
  }
  return value;
}

/**
 * Writes to a stream, waiting for it to drain when its buffer is full; an error the stream reports (EPIPE when the
 * reader is gone) fails the next write.
 */
function outputTo(stream) {
  let failed = null;
  const onError = (error) => void (failed ??= error);
  stream.on('error', onError);
  return {
    write(chunk) {
      if (failed) throw failed;
      if (stream.write(chunk)) return undefined;
      return new Promise((resolve, reject) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('error', done);
          if (failed) reject(failed); else resolve();
        };
        stream.on('drain', done);
        stream.on('error', done);
      });
    },
    close: () => stream.off('error', onError),
  };
}
