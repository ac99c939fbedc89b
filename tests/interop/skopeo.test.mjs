// Standard OCI tools read the local pantry: a pack seeded with the CLI is an OCI artifact that skopeo
// inspects and copies to another OCI layout, whose blobs `sha256sum` confirms. skopeo is installed by
// `scripts/setup.sh test`; this test never skips.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "build", "package", "bin", "ctxpack.cjs");

let work, home, other, uri, ref, rawManifest, indexEntry;

// Runs a tool and returns its stdout; on failure the thrown error carries its stderr.
function sh(command, args, options = {}) {
  return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...options });
}

function sha256sum(file) {
  return `sha256:${sh("sha256sum", [file]).split(" ")[0]}`;
}

function blob(layout, digest) {
  return join(layout, "blobs", "sha256", digest.slice("sha256:".length));
}

before(() => {
  work = mkdtempSync(join(tmpdir(), "ctxpack-skopeo-"));
  home = join(work, "pantry");
  other = join(work, "copy");
  mkdirSync(join(work, "project", "results", "nested"), { recursive: true });
  writeFileSync(join(work, "project", "source.txt"), "input bytes\n");
  writeFileSync(join(work, "project", "results", "a.txt"), "alpha\n");
  writeFileSync(join(work, "project", "results", "nested", "b.bin"), Buffer.from([0, 1, 2, 255]));
  writeFileSync(
    join(work, "project", "contract.json"),
    JSON.stringify({
      inputs: [{ name: "source", path: "source.txt" }],
      transforms: [{ tool: "copy", tool_version: "1" }],
      outputs: "results",
    }),
  );
  const seeded = sh(process.execPath, [cli, "seed", "results", "--contract", "contract.json"], {
    cwd: join(work, "project"),
    env: { ...process.env, CTXPACK_HOME: home },
  });
  uri = seeded.match(/ctx:\/\/sha256:[0-9a-f]{64}/)?.[0];
  assert.ok(uri, `ctxpack seed printed no URI:\n${seeded}`);
  ref = `ctx-${uri.slice("ctx://sha256:".length)}`;
  const index = JSON.parse(readFileSync(join(home, "index.json"), "utf8"));
  indexEntry = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === ref);
  assert.ok(indexEntry, `the pantry's index.json has no ${ref}`);
  rawManifest = sh("skopeo", ["inspect", "--raw", `oci:${home}:${ref}`]);
});

after(() => {
  if (work) {
    execFileSync("chmod", ["-R", "u+w", work]);
    rmSync(work, { recursive: true, force: true });
  }
});

test("skopeo inspect --raw returns the pack's OCI manifest", () => {
  const manifest = JSON.parse(rawManifest);
  assert.equal(manifest.schemaVersion, 2);
  assert.equal(manifest.mediaType, "application/vnd.oci.image.manifest.v1+json");
  assert.equal(manifest.artifactType, "application/vnd.ctxpack.pack.v1");
  assert.equal(manifest.config.mediaType, "application/vnd.ctxpack.manifest.v1+json");
  assert.equal(manifest.layers.length, 1);
  assert.equal(manifest.layers[0].mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");

  // The bytes skopeo printed are the manifest blob the pantry's index.json names under ctx-<hex>.
  assert.equal(sha256sum(blob(home, indexEntry.digest)), indexEntry.digest);
  assert.equal(readFileSync(blob(home, indexEntry.digest), "utf8"), rawManifest);
  for (const descriptor of [manifest.config, ...manifest.layers]) {
    assert.equal(sha256sum(blob(home, descriptor.digest)), descriptor.digest);
  }

  // The config blob is the pack's manifest.json, naming the same URI.
  const config = JSON.parse(readFileSync(blob(home, manifest.config.digest), "utf8"));
  assert.equal(config.ctxpack, "pack/v1");
  assert.equal(config.uri, uri);
});

test("skopeo copy moves the pack to another OCI layout, blobs intact", () => {
  sh("skopeo", ["copy", "--quiet", `oci:${home}:${ref}`, `oci:${other}:${ref}`]);
  const manifest = JSON.parse(rawManifest);
  const index = JSON.parse(readFileSync(join(other, "index.json"), "utf8"));
  assert.equal(index.manifests.length, 1);
  assert.equal(index.manifests[0].annotations["org.opencontainers.image.ref.name"], ref);
  assert.equal(index.manifests[0].digest, indexEntry.digest, "skopeo rewrote the manifest");

  const copied = readdirSync(join(other, "blobs", "sha256")).map((hex) => `sha256:${hex}`).sort();
  assert.deepEqual(copied, [indexEntry.digest, manifest.config.digest, manifest.layers[0].digest].sort());
  for (const digest of copied) assert.equal(sha256sum(blob(other, digest)), digest);
  assert.equal(sh("skopeo", ["inspect", "--raw", `oci:${other}:${ref}`]), rawManifest);
});

test("the layer is a tar.gz with manifest.json first, then artifacts/", () => {
  const layer = JSON.parse(rawManifest).layers[0];
  const entries = sh("tar", ["-tzf", blob(home, layer.digest)]).trim().split("\n");
  assert.equal(entries[0], "manifest.json");
  const files = entries.slice(1).filter((entry) => !entry.endsWith("/"));
  assert.deepEqual(files, ["artifacts/a.txt", "artifacts/nested/b.bin"]);
  assert.ok(entries.slice(1).every((entry) => entry.startsWith("artifacts/")), entries.join("\n"));
});
