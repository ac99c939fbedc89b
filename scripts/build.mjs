#!/usr/bin/env node
// Builds the npm package `ctxpack`:
//   1. build/wasm/     the Rust core compiled to wasm32 by wasm-pack (--target web), optimised by npm
//                      binaryen's wasm-opt -O3 (Cargo.toml [package.metadata.wasm-pack]);
//   2. build/package/  pkg-template/ + core/{ctxpack_core.js, ctxpack_core_bg.wasm, ctxpack_core.d.ts, snippets/}
//                      + www/ (the browser inspector);
//   3. with --pack:    dist/ctxpack-<version>.tgz (npm pack of build/package).
// Each step is skipped when the content hash of its inputs, kept in <output>.stamp, is unchanged.
// Run scripts/setup.sh first (npm run build / npm run package do).
//
// usage: node scripts/build.mjs [--pack] [--force]

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wasmDir = join(root, "build", "wasm");
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

// 1. wasm core
const rustc = spawnSync("rustc", ["--version"], { encoding: "utf8" });
if (rustc.status !== 0) fail("rustc not found (run scripts/setup.sh first)");
const wasmStamp = inputsHash(
  ["Cargo.toml", "Cargo.lock", ".cargo/config.toml", "src", "package-lock.json", "scripts/build.mjs"],
  [rustc.stdout.trim()],
);
if (!force && readStamp(wasmDir) === wasmStamp && coreFiles.every((file) => existsSync(join(wasmDir, file)))) {
  console.log("build: wasm core up to date (build/wasm)");
} else {
  const wasmOpt = which("wasm-opt");
  if (wasmOpt !== join(npmBin, "wasm-opt")) fail(`wasm-opt on PATH is ${wasmOpt ?? "missing"}, expected ${join(npmBin, "wasm-opt")} (run scripts/setup.sh)`);
  const start = performance.now();
  rmSync(wasmDir, { recursive: true, force: true });
  rmSync(`${wasmDir}.stamp`, { force: true });
  console.log("build: wasm-pack build --release --target web (cargo, wasm-bindgen, wasm-opt -O3)");
  const stderr = await runCapturingStderr("wasm-pack", [
    "--log-level", "info", "build", "--release", "--target", "web", "--mode", "no-install", "--no-pack",
    "--out-dir", "build/wasm", "--out-name", "ctxpack_core",
  ]);
  // wasm-pack silently skips wasm-opt when it cannot find one; the package must ship the optimised module.
  if (!stderr.includes("Optimizing wasm binaries with `wasm-opt`")) fail("wasm-pack did not run wasm-opt");
  for (const file of coreFiles) if (!existsSync(join(wasmDir, file))) fail(`wasm-pack wrote no build/wasm/${file}`);

  // wasm-bindgen declares a re-exported JS class as `let CtxpackError: unknown`; give it the class's declaration.
  const declarations = join(wasmDir, "ctxpack_core.d.ts");
  const reexported = "export let CtxpackError: unknown;";
  const typings = readFileSync(declarations, "utf8");
  if (!typings.includes(reexported)) fail(`build/wasm/ctxpack_core.d.ts does not declare CtxpackError as expected`);
  const errorClass = readFileSync(join(root, "src", "interop", "ctxpack_error.d.ts"), "utf8").trim();
  writeFileSync(declarations, typings.replace(reexported, errorClass));

  // Smoke test: the module instantiates and reports the crate's version.
  const core = await import(pathToFileURL(join(wasmDir, "ctxpack_core.js")).href);
  core.initSync({ module: readFileSync(join(wasmDir, "ctxpack_core_bg.wasm")) });
  if (core.version() !== cargoVersion) fail(`built core reports version ${core.version()}, expected ${cargoVersion}`);

  writeFileSync(`${wasmDir}.stamp`, `${wasmStamp}\n`);
  const size = statSync(join(wasmDir, "ctxpack_core_bg.wasm")).size;
  console.log(`build: wasm core built in ${elapsed(start)} (ctxpack_core_bg.wasm ${size.toLocaleString("en")} bytes)`);
}

// 2. npm package directory
const templateManifest = join(root, "pkg-template", "package.json");
if (!existsSync(templateManifest)) fail("pkg-template/package.json is missing");
const template = JSON.parse(readFileSync(templateManifest, "utf8"));
if (template.version !== cargoVersion) {
  fail(`pkg-template/package.json version ${template.version} differs from Cargo.toml version ${cargoVersion}; make them equal`);
}
const packageStamp = inputsHash(["pkg-template", "schema", "www"], [wasmStamp]);
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
