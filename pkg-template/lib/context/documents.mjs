// Reading and writing context documents (packets, task specs, policies): YAML or JSON, parsed by the core so
// every host reads them the same way. Writes never replace an existing file unless asked.
import fs from 'node:fs';
import path from 'node:path';
import { contextParseDocument, contextToYaml } from '../core-node.mjs';
import { CtxpackError, toCtxpackError } from '../errors.mjs';
import { writeFileAtomic } from '../pantry.mjs';

/**
 * The largest document the core parses (src/context/packet/yaml.rs MAX_DOCUMENT_BYTES): checked here before the
 * file is read, so a larger one costs no memory and is refused with its own error, not a YAML one.
 */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * Refuse a file over `maxBytes` before reading it, naming the limit and how to raise it where a command can
 * (`context redact --max-document-bytes`).
 */
export function checkDocumentSize(file, maxBytes = MAX_DOCUMENT_BYTES) {
  const size = fs.statSync(file).size;
  if (size <= maxBytes) return size;
  const raisable = maxBytes === MAX_DOCUMENT_BYTES ? ' (16 MiB)' : ' (--max-document-bytes)';
  throw new CtxpackError('CTX_LIMIT_EXCEEDED', `${file} is ${size.toLocaleString('en')} bytes; context documents are read up to ${maxBytes.toLocaleString('en')} bytes${raisable}`, {
    subject: file,
    hint: `\`ctxpack context redact --max-document-bytes ${size}\` reads it (memory grows with the packet: about 6 bytes per byte); or build smaller packets: \`ctxpack context build --max-file-bytes <n>\` skips large files`,
  });
}

/** A document from a file: YAML, or JSON (which is also how `.json` files are read). */
export function readContextDocument(file, maxBytes = MAX_DOCUMENT_BYTES) {
  let text;
  try {
    checkDocumentSize(file, maxBytes);
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw toCtxpackError(error, file);
  }
  try {
    return contextParseDocument(text, maxBytes);
  } catch (error) {
    if (error && typeof error === 'object' && error.subject === undefined) error.subject = file;
    throw error;
  }
}

/** A document given as an object, or the path of a file holding one. */
export function documentFrom(source, maxBytes) {
  return typeof source === 'string' ? readContextDocument(source, maxBytes) : source;
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
