// Reading and writing context documents (packets, task specs, policies): YAML or JSON, parsed by the core so
// every host reads them the same way. Writes never replace an existing file unless asked.
import fs from 'node:fs';
import path from 'node:path';
import { contextParseDocument, contextToYaml } from '../core-node.mjs';
import { CtxpackError, toCtxpackError } from '../errors.mjs';
import { writeFileAtomic } from '../pantry.mjs';

/** A document from a file: YAML, or JSON (which is also how `.json` files are read). */
export function readContextDocument(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw toCtxpackError(error, file);
  }
  try {
    return contextParseDocument(text);
  } catch (error) {
    if (error && typeof error === 'object' && error.subject === undefined) error.subject = file;
    throw error;
  }
}

/** A document given as an object, or the path of a file holding one. */
export function documentFrom(source) {
  return typeof source === 'string' ? readContextDocument(source) : source;
}

/** The text of a document: JSON for `.json` files and when asked, YAML otherwise. */
export function formatContextDocument(doc, { format = 'yaml' } = {}) {
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : contextToYaml(doc);
}

export function formatForPath(file) {
  return path.extname(file).toLowerCase() === '.json' ? 'json' : 'yaml';
}

/**
 * Write a document atomically. An existing file is replaced only with `overwrite`, so a mistyped `-o` never
 * destroys a user's file.
 */
export function writeContextDocument(file, doc, { overwrite = false, format = formatForPath(file) } = {}) {
  if (!overwrite && fs.existsSync(file)) {
    throw new CtxpackError('CTX_TARGET_EXISTS', `${file} already exists`, {
      subject: file,
      hint: 'choose another output file, or pass --force to replace it',
    });
  }
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileAtomic(file, Buffer.from(formatContextDocument(doc, { format })));
}
