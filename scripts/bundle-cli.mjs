// The package's CLI as a few CommonJS modules, made by rollup from the package's own bin/ and lib/ (scripts/build.mjs
// calls it on the assembled package). Node 20 has no compile cache and charges each ES module it loads, and an ES
// module costs more than its own file: running one starts Node's ESM loader (~10 internal modules), and
// `import fs from 'node:fs'` snapshots every export of the builtin, lazy ones included (fs/promises, streams,
// readline). A CommonJS main module does neither, so `ctxpack id` of one file loads about as many of Node's modules
// as `node -e 0`. Here bin/ctxpack.mjs becomes bin/ctxpack.cjs (the package's bin), one module holding everything
// start-up needs (the command line, help, `--version`, `id` and identity); every other command and each wasm
// core's glue are chunks in bin/chunks/, required when the dynamic import() that loaded them before runs.
// lib/ stays as it is (ES modules) for the JS API and the worker threads (started by URL, each in its own isolate).
//   - import.meta.url in a bundled module becomes the URL of its file in lib/ (or core/), so the URLs of wasm
//     files, workers, the package.json and the inspector resolve as they did;
//   - the CtxpackError class (core/ctxpack_error.js, which every core's glue re-exports) is bundled once: the one
//     class of every core and the CLI (instanceof holds across them); no module of lib/ runs in the CLI's process;
//   - a CommonJS module cannot await at its top level, as lib/core-node.mjs and lib/core-id-node.mjs do to
//     instantiate their core: in the bundle each instantiates its core at the first import() of it, which waits
//     for that (see CORE_HOSTS). A command calls a core only after such an import: main awaits the full core
//     before a command on it runs (its scrubber), identity imports the core it runs on;
//   - import() of a Node builtin becomes require() (the ESM loader is not started for node:v8 or worker_threads).
import { chmodSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { rollup } from "rollup";

/** The modules of bin/ctxpack.cjs are these and what they import statically: the command line, `version` and `id`. */
const STARTUP_ROOTS = ["bin/ctxpack.mjs", "lib/cli/main.mjs", "lib/cli/id.mjs", "lib/cli/version.mjs"];
const STARTUP_CHUNK = "startup";
/** The package's bin: CommonJS whatever the package's "type" says. */
export const CLI_BIN = "bin/ctxpack.cjs";

/**
 * The wasm cores' hosts in the bundle, without top-level await: the first call of the function the host registers
 * under the symbol `ready` instantiates the core (taking the compile the bin started, under the symbol `compile`,
 * else compiling the wasm file), not the require: `help` requires every command's chunk and compiles no core. It
 * is found by symbol, not on the chunk: an import() of a chunk that holds more than the host resolves to a member.
 */
const CORE_HOSTS = {
  "lib/core-node.mjs": { glue: "../core/ctxpack_core.js", wasm: "../core/ctxpack_core_bg.wasm", compile: "ctxpack.core.compile", ready: "ctxpack.core.ready", full: true },
  "lib/core-id-node.mjs": { glue: "../core/id/ctxpack_core.js", wasm: "../core/id/ctxpack_core_bg.wasm", compile: "ctxpack.core.id.compile", ready: "ctxpack.core.id.ready", full: false },
};

/**
 * The bundle's version of a core's host (`path`), with its exports: the glue's, and for the full core `coreModule`
 * (what worker threads are given) and the flag identity reads.
 */
function coreHostSource(path, { glue, wasm, compile, ready, full }) {
  const exported = [...readFileSync(path, "utf8").matchAll(/^export (?:const|let|function|class) (\w+)/gm)].map((match) => match[1]);
  if (exported.join() !== (full ? "coreModule" : "")) {
    throw new Error(`${path} exports ${exported.join(", ") || "nothing"} of its own: make scripts/bundle-cli.mjs's version of it do the same`);
  }
  return `import { readFileSync } from 'node:fs';
import { initSync } from '${glue}';
${full ? "export let coreModule;\n" : ""}let instantiated;
globalThis[Symbol.for('${ready}')] = () => {
  instantiated ??= (globalThis[Symbol.for('${compile}')] ?? WebAssembly.compile(readFileSync(new URL('${wasm}', import.meta.url)))).then((module) => {
    ${full ? "coreModule = module;\n    " : ""}initSync({ module });
  });
  return instantiated;
};
${full ? "globalThis[Symbol.for('ctxpack.core.full')] = true;\n" : ""}export * from '${glue}';
`;
}

/**
 * Replace `packageDir`/bin/ctxpack.mjs by the bundled CLI, bin/ctxpack.cjs (with its chunks in bin/chunks/).
 * @param {string} packageDir an assembled package (pkg-template plus core/)
 * @returns {Promise<{chunks: number, startupModules: number}>}
 */
export async function bundleCli(packageDir) {
  const entry = join(packageDir, "bin", "ctxpack.mjs");
  const outDir = dirname(entry);
  const toUrl = (path) => path.split(sep).join("/");
  const hosts = new Map(Object.entries(CORE_HOSTS).map(([path, host]) => [join(packageDir, path), host]));
  const awaited = new Set();
  let startup;
  const bundle = await rollup({
    input: entry,
    external: (id) => id.startsWith("node:"),
    plugins: [
      {
        name: "commonjs-cli",
        load(id) {
          return hosts.has(id) ? coreHostSource(id, hosts.get(id)) : null;
        },
        resolveImportMeta(property, { chunkId, moduleId }) {
          if (property !== "url") return null;
          const original = toUrl(relative(dirname(join(outDir, chunkId)), moduleId));
          return `new URL(${JSON.stringify(original)}, require('node:url').pathToFileURL(__filename)).href`;
        },
        renderDynamicImport({ targetModuleId }) {
          if (targetModuleId?.startsWith("node:")) return { left: "Promise.resolve().then(function () { return require(", right: "); })" };
          if (!hosts.has(targetModuleId)) return null;
          awaited.add(targetModuleId);
          const ready = `globalThis[Symbol.for(${JSON.stringify(hosts.get(targetModuleId).ready)})]()`;
          return { left: "Promise.resolve().then(function () { return require(", right: `); }).then(function (chunk) { return ${ready}.then(function () { return chunk; }); })` };
        },
      },
    ],
    onwarn(warning, warn) {
      // lib/ has import cycles whose modules use each other only inside functions; every other warning fails the build.
      if (warning.code === "CIRCULAR_DEPENDENCY") return;
      warn(warning);
      throw new Error(`rollup: ${warning.message}`);
    },
  });
  const { output } = await bundle.write({
    dir: outDir,
    format: "cjs",
    entryFileNames: "ctxpack.cjs",
    chunkFileNames: "chunks/[name]-[hash].cjs",
    // A module of the bundle is never required by anything else: no __esModule marker, no interop helpers.
    esModule: false,
    interop: "default",
    manualChunks(id, { getModuleInfo }) {
      startup ??= staticClosure(STARTUP_ROOTS.map((root) => join(packageDir, root)), getModuleInfo);
      if (startup.has(id)) return STARTUP_CHUNK;
      // A core's host in a chunk of its own: an import() of it from the same chunk would not wait for its core.
      return hosts.has(id) ? relative(join(packageDir, "lib"), id).replace(/\.mjs$/, "") : undefined;
    },
  });
  await bundle.close();
  const main = output.find((chunk) => chunk.type === "chunk" && chunk.isEntry);
  if (main?.fileName !== "ctxpack.cjs" || Object.keys(main.modules).length !== startup.size) {
    throw new Error(`rollup did not put start-up's ${startup.size} modules in ${CLI_BIN}`);
  }
  if (awaited.size !== hosts.size) throw new Error("an import() of a wasm core's host in the CLI does not wait for its core");
  rmSync(entry);
  chmodSync(join(packageDir, CLI_BIN), 0o755);
  return { chunks: output.length, startupModules: startup.size };
}

/** The modules `roots` import statically, transitively (dynamic imports are where other chunks begin). */
function staticClosure(roots, getModuleInfo) {
  const found = new Set();
  const visit = (id) => {
    if (found.has(id) || id.startsWith("node:")) return;
    found.add(id);
    for (const imported of getModuleInfo(id).importedIds) visit(imported);
  };
  roots.forEach(visit);
  return found;
}
