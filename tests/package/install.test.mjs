// The npm package as a user gets it: `npm run package` writes dist/ctxpack-<version>.tgz, which is
// installed into an empty folder (offline: the package has no runtime dependencies) and used from there
// with no Rust toolchain on PATH: the `ctxpack` command, `import … from "ctxpack"` and "ctxpack/core".
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const version = JSON.parse(readFileSync(join(root, "pkg-template", "package.json"), "utf8")).version;
const tarball = join(root, "dist", `ctxpack-${version}.tgz`);
// What a machine without Rust has: node and the system directories, nothing from ~/.cargo or this repo.
const userEnv = { ...process.env, PATH: [dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":") };
delete userEnv.CARGO_HOME;
delete userEnv.RUSTUP_HOME;

let dir;

function sha256(bytes) {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

// RFC 8785 for what this test feeds it (strings, booleans, integers, arrays, objects): keys sorted by
// UTF-16 code units, ECMAScript serialisation of strings and numbers.
function jcs(value) {
  if (Array.isArray(value)) return `[${value.map(jcs).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${jcs(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function inDir(command, args) {
  return spawnSync(command, args, { cwd: dir, env: { ...userEnv, CTXPACK_HOME: join(dir, "pantry") }, encoding: "utf8" });
}

before(() => {
  const pack = spawnSync("npm", ["run", "package"], { cwd: root, encoding: "utf8" });
  assert.equal(pack.status, 0, `npm run package failed:\n${pack.stdout}\n${pack.stderr}`);
  dir = mkdtempSync(join(tmpdir(), "ctxpack-install-"));
  const install = spawnSync("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], {
    cwd: dir,
    env: userEnv,
    encoding: "utf8",
  });
  assert.equal(install.status, 0, `npm install ${tarball} failed:\n${install.stdout}\n${install.stderr}`);

  writeFileSync(join(dir, "data.txt"), "one\ntwo\nthree\n");
  writeFileSync(join(dir, "count.mjs"), "console.log('count lines');\n");
  writeFileSync(
    join(dir, "contract.json"),
    JSON.stringify({
      inputs: [{ name: "data", path: "data.txt" }],
      transforms: [{ tool: "count", tool_version: "1", code_path: "count.mjs", params: { lines: true } }],
      outputs: "out",
    }),
  );
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// The URI the issue's rules give for contract.json, computed here without ctxpack.
function expectedUri() {
  const resolved = {
    ctxpack: "contract/v1",
    inputs: [{ name: "data", type: "file", digest: sha256(readFileSync(join(dir, "data.txt"))) }],
    transforms: [
      { tool: "count", tool_version: "1", code_hash: sha256(readFileSync(join(dir, "count.mjs"))), params: { lines: true } },
    ],
  };
  return `ctx://${sha256(jcs(resolved))}`;
}

test("the tarball holds the CLI, the JS API with its type declarations and the wasm core", () => {
  const listing = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n");
  for (const file of [
    "package/package.json",
    "package/bin/ctxpack.cjs",
    "package/lib/index.mjs",
    "package/lib/index.d.ts",
    "package/core/ctxpack_core.js",
    "package/core/ctxpack_core.d.ts",
    "package/core/ctxpack_core_bg.wasm",
    "package/core/web.js",
    "package/core/web.d.ts",
    "package/core/lean/ctxpack_core.js",
    "package/core/lean/ctxpack_core.d.ts",
    "package/core/lean/ctxpack_core_bg.wasm",
    "package/core/lean/web.js",
    "package/core/lean/web.d.ts",
    "package/core/id/ctxpack_core.js",
    "package/core/id/ctxpack_core_bg.wasm",
    "package/LICENSE",
    "package/NOTICE",
  ]) {
    assert.ok(listing.includes(file), `${file} missing from ${tarball}`);
  }
  // The glue imports the CtxpackError class from a snippet wasm-bindgen names by a hash.
  assert.ok(listing.some((file) => /^package\/core\/snippets\/.+\/ctxpack_error\.js$/.test(file)), `the CtxpackError snippet is missing from ${tarball}`);
  assert.ok(listing.some((file) => /^package\/core\/lean\/snippets\/.+\/ctxpack_error\.js$/.test(file)), `the lean core's snippet is missing from ${tarball}`);
  assert.ok(listing.some((file) => /^package\/core\/id\/snippets\/.+\/ctxpack_error\.js$/.test(file)), `the identity core's snippet is missing from ${tarball}`);
  const manifest = JSON.parse(readFileSync(join(dir, "node_modules", "ctxpack", "package.json"), "utf8"));
  assert.equal(manifest.name, "ctxpack");
  assert.equal(manifest.version, version);
  assert.deepEqual(manifest.dependencies ?? {}, {}, "the package must have no runtime dependencies");
});

test("npx ctxpack --help lists the commands", () => {
  const help = inDir("npx", ["--no", "--", "ctxpack", "--help"]);
  assert.equal(help.status, 0, help.stderr);
  for (const command of ["id", "seed", "inspect", "verify", "export", "unpack", "ls", "rm", "gc", "run"]) {
    assert.match(help.stdout, new RegExp(`\\b${command}\\b`), `--help does not mention ${command}`);
  }
});

test("the installed ctxpack id prints the contract's URI", () => {
  const id = inDir(join(dir, "node_modules", ".bin", "ctxpack"), ["id", "--contract", "contract.json"]);
  assert.equal(id.status, 0, id.stderr);
  assert.equal(id.stdout.match(/ctx:\/\/sha256:[0-9a-f]{64}/)?.[0], expectedUri());
});

test("ESM imports of ctxpack, ctxpack/core and ctxpack/core/lean work from the installed package", () => {
  writeFileSync(
    join(dir, "use.mjs"),
    [
      'import { computeIdentity } from "ctxpack";',
      'import * as core from "ctxpack/core";',
      'import * as lean from "ctxpack/core/lean";',
      'import { readFileSync } from "node:fs";',
      'const { uri } = await computeIdentity({ contractPath: "contract.json" });',
      'const abc = core.sha256(new TextEncoder().encode("abc"));',
      'lean.initSync({ module: readFileSync(new URL(import.meta.resolve("ctxpack/core/lean/ctxpack_core_bg.wasm"))) });',
      "console.log(JSON.stringify({ uri, abc, version: core.version(), lean: lean.sha256(new TextEncoder().encode('abc')) }));",
    ].join("\n"),
  );
  const script = inDir(process.execPath, ["use.mjs"]);
  assert.equal(script.status, 0, script.stderr);
  assert.deepEqual(JSON.parse(script.stdout), {
    uri: expectedUri(),
    abc: "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    version,
    lean: "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  });
});
