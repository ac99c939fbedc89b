// The package's CLI as a few ES modules, made by rollup from the package's own bin/ and lib/ (scripts/build.mjs
// calls it on the assembled package). Node 20 has no compile cache and charges each ES module it loads: the
// unbundled CLI read 17 modules for `id` of one file and 10 for `--version`. Here bin/ctxpack.mjs becomes one
// module holding everything start-up needs (the command line, help, `--version`, `id` and identity); every other
// command and each wasm core's glue are chunks in bin/chunks/, loaded by the dynamic import() that loaded them
// before. lib/ stays as it is for the JS API and the worker threads (started by URL, each in its own isolate).
//   - import.meta.url in a bundled module becomes the URL of its file in lib/ (or core/), so the URLs of wasm
//     files, workers, the package.json and the inspector resolve as they did;
//   - core/ctxpack_error.js stays a module of its own, imported by path: the one CtxpackError class of both
//     cores, the JS API and the CLI (instanceof holds across them).
import { dirname, join, relative, sep } from "node:path";
import { rollup } from "rollup";

/** The modules of bin/ctxpack.mjs are these and what they import statically: the command line, `version` and `id`. */
const STARTUP_ROOTS = ["bin/ctxpack.mjs", "lib/cli/main.mjs", "lib/cli/id.mjs", "lib/cli/version.mjs"];
const STARTUP_CHUNK = "startup";
const ERROR_CLASS = "core/ctxpack_error.js";

/**
 * Replace `packageDir`/bin/ctxpack.mjs by the bundled CLI (with its chunks in bin/chunks/).
 * @param {string} packageDir an assembled package (pkg-template plus core/)
 * @returns {Promise<{chunks: number, startupModules: number}>}
 */
export async function bundleCli(packageDir) {
  const entry = join(packageDir, "bin", "ctxpack.mjs");
  const outDir = dirname(entry);
  const errorClass = join(packageDir, ERROR_CLASS);
  const toUrl = (path) => path.split(sep).join("/");
  let startup;
  const bundle = await rollup({
    input: entry,
    external: (id) => id.startsWith("node:") || id === errorClass,
    plugins: [
      {
        name: "original-import-meta-url",
        resolveImportMeta(property, { chunkId, moduleId }) {
          if (property !== "url") return null;
          const original = toUrl(relative(dirname(join(outDir, chunkId)), moduleId));
          return `new URL(${JSON.stringify(original)}, import.meta.url).href`;
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
    format: "es",
    entryFileNames: "ctxpack.mjs",
    chunkFileNames: "chunks/[name]-[hash].mjs",
    manualChunks(id, { getModuleInfo }) {
      startup ??= staticClosure(STARTUP_ROOTS.map((root) => join(packageDir, root)), getModuleInfo, errorClass);
      return startup.has(id) ? STARTUP_CHUNK : undefined;
    },
  });
  await bundle.close();
  const main = output.find((chunk) => chunk.type === "chunk" && chunk.isEntry);
  if (main?.fileName !== "ctxpack.mjs" || Object.keys(main.modules).length !== startup.size) {
    throw new Error(`rollup did not put start-up's ${startup.size} modules in bin/ctxpack.mjs`);
  }
  return { chunks: output.length, startupModules: startup.size };
}

/** The modules `roots` import statically, transitively (dynamic imports are where other chunks begin). */
function staticClosure(roots, getModuleInfo, errorClass) {
  const found = new Set();
  const visit = (id) => {
    if (found.has(id) || id.startsWith("node:") || id === errorClass) return;
    found.add(id);
    for (const imported of getModuleInfo(id).importedIds) visit(imported);
  };
  roots.forEach(visit);
  return found;
}
