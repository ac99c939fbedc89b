// Small HTTP answers shared by `ctxpack serve`'s handlers.

/** A JSON body. */
export function sendJson(response, status, value) {
  const body = Buffer.from(JSON.stringify(value));
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length, 'cache-control': 'no-store' });
  response.end(body);
}

/** An OCI distribution error body (`{"errors": [{code, message}]}`), which the core's client reads and reports. */
export function sendRegistryError(response, status, code, message) {
  sendJson(response, status, { errors: [{ code, message }] });
}

/**
 * A `Range: bytes=a-b` / `bytes=a-` header against a body of `size` bytes: undefined when absent or not one
 * byte range (the whole body is sent), null when unsatisfiable (416), else `{start, end}` (inclusive).
 */
export function parseRange(header, size) {
  const match = /^bytes=(\d+)-(\d*)$/.exec(header ?? '');
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}
