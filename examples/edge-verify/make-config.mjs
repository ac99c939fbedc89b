#!/usr/bin/env node
// Lays out this example for the `workerd` binary: copies the ctxpack core (every file the glue imports, the
// wasm-bindgen snippets included) beside worker.mjs into <dir>, and writes <dir>/config.capnp embedding each
// module under the name it is imported by. Wrangler does this itself when it bundles (see README.md).
//
//   node make-config.mjs <dir> [--core <path to ctxpack/core>] [--port 8787] [--user U --token T] [--trusted-keys <pem file>]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    core: { type: 'string' },
    port: { type: 'string', default: '8787' },
    user: { type: 'string' },
    token: { type: 'string' },
    'trusted-keys': { type: 'string' },
  },
});
const [dir] = positionals;
if (!dir) throw new Error('usage: node make-config.mjs <dir> [--core <ctxpack/core dir>] [--port N] [--user U --token T]');
const core = path.resolve(values.core ?? path.join(here, 'node_modules', 'ctxpack', 'core'));
fs.mkdirSync(dir, { recursive: true });
fs.copyFileSync(path.join(here, 'worker.mjs'), path.join(dir, 'worker.mjs'));

const modules = ['(name = "worker.mjs", esModule = embed "worker.mjs")'];
const copy = (from, name) => {
  fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  fs.copyFileSync(from, path.join(dir, name));
};
for (const file of walk(core)) {
  const name = path.relative(core, file).split(path.sep).join('/');
  if (name.endsWith('.d.ts')) continue;
  copy(file, name);
  if (name.endsWith('.wasm')) modules.push(`(name = "${name}", wasm = embed "${name}")`);
  else if (name.endsWith('.js')) modules.push(`(name = "${name}", esModule = embed "${name}")`);
}
const bound = [
  ...(values.user ? [`(name = "REGISTRY_USER", text = ${JSON.stringify(values.user)})`, `(name = "REGISTRY_TOKEN", text = ${JSON.stringify(values.token ?? '')})`] : []),
  ...(values['trusted-keys'] ? [`(name = "TRUSTED_KEYS", text = ${JSON.stringify(fs.readFileSync(values['trusted-keys'], 'utf8'))})`] : []),
];
const bindings = bound.length > 0 ? `bindings = [ ${bound.join(', ')} ],` : '';
fs.writeFileSync(path.join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .verifier), (name = "net", network = (allow = ["local", "public"])) ],
  sockets = [ (name = "http", address = "127.0.0.1:${values.port}", http = (), service = "main") ],
);
const verifier :Workerd.Worker = (
  modules = [
    ${modules.join(',\n    ')},
  ],
  ${bindings}
  compatibilityDate = "2025-09-01",
  globalOutbound = "net",
);
`);

function* walk(root) {
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}
