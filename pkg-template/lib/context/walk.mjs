// Collects the files a task's scope selects, for the core to build items from. The core decides what is in
// scope (contextScope); this walker only lists directories, prunes what the scope can never enter, and reads.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { contextScope } from '../core-node.mjs';
import { CtxpackError, toCtxpackError } from '../errors.mjs';

/** Files larger than this are not sent to an LLM whole; they are listed as skipped. */
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
/** Never walked: version-control internals are not context, and can be huge. */
const NEVER_ENTERED = new Set(['.git', '.hg', '.svn']);

/**
 * @param {object} task the task document
 * @param {{project: string, maxFileBytes?: number}} options
 * @returns {{files: Array<{path: string, text: string, digest: string, size: number}>,
 *            skipped: Array<{path: string, reason: string}>}} files sorted by path
 */
export function collectFiles(task, { project, maxFileBytes = DEFAULT_MAX_FILE_BYTES }) {
  const scope = contextScope(task);
  const files = [];
  const skipped = [];
  const seen = new Set();
  const roots = task.scope?.roots ?? task.roots ?? ['.'];
  for (const root of roots) {
    const start = root === '.' ? '' : root.replace(/\/+$/, '');
    const absolute = path.join(project, start);
    let stat;
    try {
      stat = fs.lstatSync(absolute);
    } catch (error) {
      throw new CtxpackError('CTX_TASK_INVALID', `scope root ${JSON.stringify(root)} does not exist under ${project}`, {
        subject: root,
        hint: 'scope.roots are directories relative to the project (--project, default: the current directory)',
        cause: error,
      });
    }
    if (stat.isFile()) readOne(start, stat);
    else if (stat.isDirectory()) walkDirectory(start);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, skipped };

  function walkDirectory(relative) {
    let entries;
    try {
      entries = fs.readdirSync(path.join(project, relative), { withFileTypes: true });
    } catch (error) {
      throw toCtxpackError(error, path.join(project, relative));
    }
    for (const entry of entries) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!NEVER_ENTERED.has(entry.name) && scope.enters(child)) walkDirectory(child);
      } else if (entry.isFile() && scope.selects(child)) {
        readOne(child, fs.lstatSync(path.join(project, child)));
      } else if (entry.isSymbolicLink() && scope.selects(child)) {
        // A link may point outside the project; its target is not the project's content.
        skipped.push({ path: child, reason: 'symlink' });
      }
    }
  }

  function readOne(relative, stat) {
    if (seen.has(relative)) return;
    seen.add(relative);
    if (stat.size > maxFileBytes) {
      skipped.push({ path: relative, reason: `larger than ${maxFileBytes} bytes` });
      return;
    }
    let bytes;
    try {
      bytes = fs.readFileSync(path.join(project, relative));
    } catch (error) {
      throw toCtxpackError(error, path.join(project, relative));
    }
    const text = decodeText(bytes);
    if (text === undefined) {
      skipped.push({ path: relative, reason: 'binary' });
      return;
    }
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    files.push({ path: relative, text, digest, size: bytes.length });
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The text of a file, or undefined for binary content (a NUL byte, or not UTF-8). */
function decodeText(bytes) {
  if (bytes.subarray(0, 8192).includes(0)) return undefined;
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}
