// What the page holds besides addresses: the files and folders the user gave it in this session (by number,
// so addresses stay short and reloading says to open them again), and whether `ctxpack serve` is behind the
// page (then registries are reached through its proxy and the pantry is listed).

const files = [];
const layouts = [];
let server;

/** `/api/info` of `ctxpack serve`, or null on any other host. */
export async function serverInfo() {
  if (server === undefined) {
    server = fetch(new URL('api/info', location.origin + '/'), { headers: { accept: 'application/json' } })
      .then((response) => (response.ok ? response.json() : null))
      .then((info) => (info?.serve ? info : null))
      .catch(() => null);
  }
  return server;
}

export function addFile(file) {
  files.push(file);
  return files.length - 1;
}

export function addLayout(handle) {
  layouts.push(handle);
  return layouts.length - 1;
}

export function layoutName(index) {
  return layouts[index]?.name;
}

export function fileName(index) {
  return files[index]?.name;
}

/** The source as the worker needs it, or an error message when the page no longer holds its file or folder. */
export async function forWorker(source) {
  if (source.kind === 'file') {
    const file = files[source.index];
    return file ? { ...source, file } : { missing: 'This file was opened before the page was reloaded: open it again.' };
  }
  if (source.kind === 'layout') {
    const handle = layouts[source.index];
    return handle ? { ...source, handle } : { missing: 'This folder was opened before the page was reloaded: open it again.' };
  }
  if (source.kind === 'pantry' && !(await serverInfo())) {
    return { missing: 'The pantry is listed only when the page comes from `ctxpack serve`.' };
  }
  if (source.kind === 'registry') return { ...source, via: (await serverInfo()) ? 'proxy' : 'direct' };
  return source;
}

/** A name for a source in headings. */
export function describeSource(source) {
  switch (source.kind) {
    case 'registry':
      return source.registry;
    case 'pantry':
      return 'the pantry';
    case 'url':
      return source.url;
    case 'file':
      return fileName(source.index) ?? 'a file';
    case 'layout':
      return `folder ${layoutName(source.index) ?? ''}`.trim();
    default:
      return '';
  }
}
