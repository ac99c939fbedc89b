#!/usr/bin/env node
// Builds the npm package `ctxpack`:
//   1. build/wasm/       the Rust core compiled to wasm32 by wasm-pack (--target web), optimised by npm
//                        binaryen's wasm-opt -O3 (Cargo.toml [package.metadata.wasm-pack]);
//      build/wasm-lean/  the lean core, with the `packs` feature only (--no-default-features --features packs):
//                        identity, verification, the OCI mapping, the registry client and execution packs, for
//                        browsers and edge functions;
//      build/wasm-id/    the identity core, with no feature (--no-default-features): contract plans and
//                        resolution, tree digests, SHA-256, for `ctxpack id` (the least wasm to compile);
//   2. build/package/    pkg-template/ + core/{ctxpack_core.js, ctxpack_core_bg.wasm, ctxpack_core.d.ts, snippets/,
//                        ctxpack_error.js (the CtxpackError class, which every core's snippets re-export)}
//                        + core/lean/ (the lean core and a copy of core/web.js, web.d.ts) + core/id/ (the
//                        identity core's glue and wasm, for lib/core-id-node.mjs) + www/ (the browser
//                        inspector), with bin/ctxpack.mjs replaced by the CLI bundled by rollup, bin/ctxpack.cjs
//                        (scripts/bundle-cli.mjs: start-up in one module, the other commands in bin/chunks/);
//   3. with --pack:      dist/ctxpack-<version>.tgz (npm pack of build/package).
// Each step is skipped when the content hash of its inputs, kept in <output>.stamp, is unchanged. The raw and
// gzip -9 sizes of the cores are printed every time.
// Run scripts/setup.sh first (npm run build / npm run package do).
//
// usage: node scripts/build.mjs [--pack] [--force]

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleCli, CLI_BIN } from "./bundle-cli.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wasmDir = join(root, "build", "wasm");
const leanWasmDir = join(root, "build", "wasm-lean");
const idWasmDir = join(root, "build", "wasm-id");
const packageDir = join(root, "build", "package");
const distDir = join(root, "dist");
const coreFiles = ["ctxpack_core.js", "ctxpack_core_bg.wasm", "ctxpack_core.d.ts"];

const args = process.argv.slice(2);
for (const arg of args) {
  if (arg !== "--pack" && arg !== "--force") fail(`unknown argument ${arg}\nusage: node scripts/build.mjs [--pack] [--force]`);
}
const force = args.includes("--force");

// npm binaryen's wasm-opt must win over any other (Debian's binaryen 108 writes wasm that fails at load).
const cargoBin = join(process.env.CARGO_HOME ?? join(process.env.HOME ?? "", ".cargo"), "bin");
const npmBin = join(root, "node_modules", ".bin");
process.env.PATH = [npmBin, cargoBin, process.env.PATH].join(delimiter);

function fail(message) {
  console.error(`build: ${message}`);
  process.exit(1);
}

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: "inherit", ...options });
  if (result.error) fail(`${command}: ${result.error.message} (run scripts/setup.sh first)`);
  if (result.status !== 0) fail(`${command} ${commandArgs.join(" ")} exited with ${result.status ?? result.signal}`);
}

// Runs a command with its stderr shown live and also returned.
function runCapturingStderr(command, commandArgs) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd: root, stdio: ["ignore", "inherit", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk) => {
      stderr += chunk;
      process.stderr.write(chunk);
    });
    child.on("error", (error) => fail(`${command}: ${error.message} (run scripts/setup.sh first)`));
    child.on("close", (status, signal) => {
      if (status !== 0) fail(`${command} ${commandArgs.join(" ")} exited with ${status ?? signal}`);
      resolve(stderr);
    });
  });
}

function which(command) {
  for (const dir of process.env.PATH.split(delimiter)) {
    const candidate = join(dir, command);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function listFiles(path) {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => listFiles(join(path, entry.name)));
}

// Hash of the relative paths and contents of the given files and directories, plus extra strings.
function inputsHash(paths, extra = []) {
  const hash = createHash("sha256");
  for (const text of extra) hash.update(`${text}\0`);
  for (const file of paths.flatMap((path) => listFiles(join(root, path)))) {
    hash.update(`${relative(root, file)}\0`);
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

// A build step's stamp sits beside its output (build/wasm.stamp, dist/ctxpack-<version>.tgz.stamp, …).
function readStamp(output) {
  try {
    return readFileSync(`${output}.stamp`, "utf8").trim();
  } catch {
    return undefined;
  }
}

function elapsed(start) {
  return `${((performance.now() - start) / 1000).toFixed(1)} s`;
}

const cargoVersion = /^version\s*=\s*"([^"]+)"/m.exec(readFileSync(join(root, "Cargo.toml"), "utf8"))?.[1];
if (!cargoVersion) fail("no version in Cargo.toml");

// 1. wasm cores
const rustc = spawnSync("rustc", ["--version"], { encoding: "utf8" });
if (rustc.status !== 0) fail("rustc not found (run scripts/setup.sh first)");
const coreInputs = ["Cargo.toml", "Cargo.lock", ".cargo/config.toml", "src", "package-lock.json", "scripts/build.mjs"];
const wasmStamp = inputsHash(coreInputs, [rustc.stdout.trim()]);
const leanCargoArgs = ["--no-default-features", "--features", "packs"];
const idCargoArgs = ["--no-default-features"];
const leanWasmStamp = inputsHash(coreInputs, [rustc.stdout.trim(), ...leanCargoArgs, "--profile lean"]);
const idWasmStamp = inputsHash(coreInputs, [rustc.stdout.trim(), ...idCargoArgs, "--profile id"]);
await buildCore({ dir: wasmDir, stamp: wasmStamp, profile: "release", cargoArgs: [], name: "wasm core" });
// The lean core is what a browser downloads: Cargo.toml's `lean` profile optimises it for size, all but the crates
// its throughput rests on. The identity core runs only in Node and is optimised for speed (Cargo.toml's `id`
// profile): the tree document of 100,000 entries in ~60 ms, not ~170 ms; 455 KB instead of 407 KB, and `id` of one
// file starts no later (V8 compiles a function at its first call).
await buildCore({ dir: leanWasmDir, stamp: leanWasmStamp, profile: "lean", cargoArgs: leanCargoArgs, name: "lean wasm core" });
await buildCore({ dir: idWasmDir, stamp: idWasmStamp, profile: "id", cargoArgs: idCargoArgs, name: "identity wasm core" });
for (const [name, dir] of [["full", wasmDir], ["lean", leanWasmDir], ["id", idWasmDir]]) {
  const wasm = join(dir, "ctxpack_core_bg.wasm");
  const gzip = spawnSync("gzip", ["-9", "-n", "-c", wasm], { maxBuffer: 64 * 1024 * 1024 });
  if (gzip.status !== 0) fail(`gzip -9 ${relative(root, wasm)} failed`);
  const [raw, gzipped] = [statSync(wasm).size, gzip.stdout.length].map((n) => n.toLocaleString("en"));
  console.log(`build: size ${name.padEnd(4)} core ${relative(root, wasm)}: ${raw} bytes raw, ${gzipped} bytes gzip -9`);
}

/** Builds one wasm core into `dir` with wasm-pack (cargo `profile` and `cargoArgs`), unless its stamp is unchanged. */
async function buildCore({ dir, stamp, profile, cargoArgs, name }) {
  const where = relative(root, dir);
  if (!force && readStamp(dir) === stamp && coreFiles.every((file) => existsSync(join(dir, file)))) {
    console.log(`build: ${name} up to date (${where})`);
    return;
  }
  const wasmOpt = which("wasm-opt");
  if (wasmOpt !== join(npmBin, "wasm-opt")) fail(`wasm-opt on PATH is ${wasmOpt ?? "missing"}, expected ${join(npmBin, "wasm-opt")} (run scripts/setup.sh)`);
  const start = performance.now();
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}.stamp`, { force: true });
  const profileArgs = profile === "release" ? ["--release"] : ["--profile", profile];
  const command = ["wasm-pack build", ...profileArgs, "--target web", ...(cargoArgs.length ? ["--", ...cargoArgs] : [])].join(" ");
  console.log(`build: ${command} → ${where} (cargo, wasm-bindgen, wasm-opt)`);
  const stderr = await runCapturingStderr("wasm-pack", [
    "--log-level", "info", "build", ...profileArgs, "--target", "web", "--mode", "no-install", "--no-pack",
    "--out-dir", where, "--out-name", "ctxpack_core", ...(cargoArgs.length ? ["--", ...cargoArgs] : []),
  ]);
  // wasm-pack silently skips wasm-opt when it cannot find one; the package must ship the optimised module.
  if (!stderr.includes("Optimizing wasm binaries with `wasm-opt`")) fail("wasm-pack did not run wasm-opt");
  for (const file of coreFiles) if (!existsSync(join(dir, file))) fail(`wasm-pack wrote no ${where}/${file}`);
  completeDeclarations(join(dir, "ctxpack_core.d.ts"));

  // Smoke test: the module instantiates and reports the crate's version.
  const core = await import(pathToFileURL(join(dir, "ctxpack_core.js")).href);
  core.initSync({ module: readFileSync(join(dir, "ctxpack_core_bg.wasm")) });
  if (core.version() !== cargoVersion) fail(`built ${name} reports version ${core.version()}, expected ${cargoVersion}`);

  writeFileSync(`${dir}.stamp`, `${stamp}\n`);
  console.log(`build: ${name} built in ${elapsed(start)} (${where})`);
}

/**
 * wasm-bindgen declares a re-exported JS class as `let CtxpackError: unknown`: give it the class's declaration.
 * The raw exports of InitOutput take and return externrefs as `any`: there they are `unknown` (nothing but the
 * glue calls them), so the declarations hold no `any`.
 */
function completeDeclarations(declarations) {
  const reexported = "export let CtxpackError: unknown;";
  let typings = readFileSync(declarations, "utf8");
  if (!typings.includes(reexported)) fail(`${relative(root, declarations)} does not declare CtxpackError as expected`);
  const errorClass = readFileSync(join(root, "src", "interop", "ctxpack_error.d.ts"), "utf8").trim();
  typings = typings.replace(reexported, errorClass);
  const initOutput = /^export interface InitOutput \{\n[\s\S]*?^\}\n/m;
  if (!initOutput.test(typings)) fail(`${relative(root, declarations)} declares no InitOutput interface`);
  typings = typings.replace(initOutput, (block) => block.replace(/\bany\b/g, "unknown"));
  writeFileSync(declarations, typings);
}

// 2. npm package directory
const templateManifest = join(root, "pkg-template", "package.json");
if (!existsSync(templateManifest)) fail("pkg-template/package.json is missing");
const template = JSON.parse(readFileSync(templateManifest, "utf8"));
if (template.version !== cargoVersion) {
  fail(`pkg-template/package.json version ${template.version} differs from Cargo.toml version ${cargoVersion}; make them equal`);
}
const packageStamp = inputsHash(["pkg-template", "schema", "www", "scripts/bundle-cli.mjs", "package-lock.json"], [wasmStamp, leanWasmStamp, idWasmStamp]);
if (!force && existsSync(packageDir) && readStamp(packageDir) === packageStamp) {
  console.log("build: package up to date (build/package)");
} else {
  const staging = `${packageDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  cpSync(join(root, "pkg-template"), staging, { recursive: true });
  mkdirSync(join(staging, "core"), { recursive: true });
  for (const file of coreFiles) cpSync(join(wasmDir, file), join(staging, "core", file));
  // The JS the glue imports (the CtxpackError class, src/interop/ctxpack_error.js).
  cpSync(join(wasmDir, "snippets"), join(staging, "core", "snippets"), { recursive: true });
  // `ctxpack/core/lean`: the lean core, with the same browser entry point beside it.
  const lean = join(staging, "core", "lean");
  mkdirSync(lean, { recursive: true });
  for (const file of coreFiles) cpSync(join(leanWasmDir, file), join(lean, file));
  cpSync(join(leanWasmDir, "snippets"), join(lean, "snippets"), { recursive: true });
  for (const file of ["web.js", "web.d.ts"]) cpSync(join(root, "pkg-template", "core", file), join(lean, file));
  // The identity core, for `ctxpack id` (lib/core-id-node.mjs; the JS API has the full core); not an export.
  const id = join(staging, "core", "id");
  mkdirSync(id, { recursive: true });
  for (const file of ["ctxpack_core.js", "ctxpack_core_bg.wasm"]) cpSync(join(idWasmDir, file), join(id, file));
  cpSync(join(idWasmDir, "snippets"), join(id, "snippets"), { recursive: true });
  shareErrorClass(join(staging, "core"), [join(staging, "core", "snippets"), join(lean, "snippets"), join(id, "snippets")]);
  // bin/ctxpack.mjs becomes the bundled CLI, bin/ctxpack.cjs: start-up in one module, the other commands in bin/chunks/.
  const cli = await bundleCli(staging).catch((error) => fail(`bundling the CLI: ${error.message}`));
  if (template.bin.ctxpack !== CLI_BIN) fail(`pkg-template/package.json's bin is ${template.bin.ctxpack}, the bundled CLI is ${CLI_BIN}`);
  console.log(`build: bundled the CLI: ${cli.startupModules} modules in ${CLI_BIN}, ${cli.chunks - 1} chunks in bin/chunks/`);
  // The JSON Schema of context packets, for editors (also embedded in the core, which checks they agree).
  cpSync(join(root, "schema"), join(staging, "schema"), { recursive: true });
  // The browser inspector that `ctxpack serve` serves.
  cpSync(join(root, "www"), join(staging, "www"), { recursive: true });
  rmSync(`${packageDir}.stamp`, { force: true });
  rmSync(packageDir, { recursive: true, force: true });
  renameSync(staging, packageDir);
  writeFileSync(`${packageDir}.stamp`, `${packageStamp}\n`);
  console.log(`build: assembled build/package (ctxpack ${cargoVersion})`);
}

/**
 * One CtxpackError class for every core, at a path that does not change: core/ctxpack_error.js (what lib/errors.mjs
 * imports, without loading a glue). Each glue's copy of its module (src/interop/ctxpack_error.js, under a
 * hash-named snippets/ folder) becomes a re-export of it, so an error from any core is an instance of the one
 * class, and its default hints come from one table (the first core instantiated gives it).
 */
function shareErrorClass(coreDir, snippetDirs) {
  const snippets = snippetDirs.map((dir) => listFiles(dir).filter((file) => file.endsWith(join("src", "interop", "ctxpack_error.js"))));
  if (snippets.some((found) => found.length !== 1)) fail(`expected one ctxpack_error.js snippet per core, found ${snippets.map((found) => found.length).join(" and ")}`);
  const shared = join(coreDir, "ctxpack_error.js");
  cpSync(snippets[0][0], shared);
  for (const [snippet] of snippets) {
    const target = relative(dirname(snippet), shared).split("\\").join("/");
    writeFileSync(snippet, `// The one CtxpackError class of every core (scripts/build.mjs).\nexport * from "${target}";\n`);
  }
}

// 3. tarball
if (args.includes("--pack")) {
  const tarball = join(distDir, `ctxpack-${cargoVersion}.tgz`);
  if (!force && existsSync(tarball) && readStamp(tarball) === packageStamp) {
    console.log(`build: ${relative(root, tarball)} up to date`);
  } else {
    mkdirSync(distDir, { recursive: true });
    rmSync(tarball, { force: true });
    rmSync(`${tarball}.stamp`, { force: true });
    run("npm", ["pack", packageDir, "--pack-destination", distDir, "--silent", "--no-fund", "--no-audit"], { stdio: ["ignore", "ignore", "inherit"] });
    if (!existsSync(tarball)) fail(`npm pack wrote no ${relative(root, tarball)}`);
    writeFileSync(`${tarball}.stamp`, `${packageStamp}\n`);
    console.log(`build: wrote ${relative(root, tarball)} (${statSync(tarball).size.toLocaleString("en")} bytes)`);
  }
}
