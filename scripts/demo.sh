#!/usr/bin/env bash
# The main job: an end-to-end quick start on the embedded default store (the local pantry, no server).
# Installs and builds what it needs (scripts/setup.sh, scripts/build.mjs), then, in a temporary folder
# with its own CTXPACK_HOME, drives the built CLI through identity, run (miss, then hit), inspect,
# verify, export, unpack and a one-byte change. Exits non-zero if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

source scripts/setup.sh build
node scripts/build.mjs

work=$(mktemp -d "${TMPDIR:-/tmp}/ctxpack-demo.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export CTXPACK_HOME="$work/pantry"

ctxpack() { node "$root/build/package/bin/ctxpack.cjs" "$@"; }
if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*"; }
die() { printf '\ndemo: FAILED: %s\n' "$*" >&2; exit 1; }
uri_in() { grep -o 'ctx://sha256:[0-9a-f]\{64\}' <<<"$1" | head -n 1; }
now_ms() { date +%s%3N; }

say "A project: an input corpus, a transform and a contract (in $work/project)"
mkdir -p "$work/project/corpus/notes"
cd "$work/project"
printf 'the quick brown fox jumps over the lazy dog\n' >corpus/fox.txt
printf 'a content address names the work, not the place where it happens to live\n' >corpus/address.txt
printf 'same recipe, same inputs, same identity: the pantry already has it\n' >corpus/notes/pantry.txt
cat >transform.mjs <<'EOF'
// Counts words in corpus/ and writes the top ones to out/. The pause stands in for expensive work
// (a model call, a long build); every real run appends a line to ../runs.log.
import fs from "node:fs";
import path from "node:path";

const { params } = JSON.parse(fs.readFileSync("contract.json", "utf8")).transforms[0];
const counts = new Map();
for (const entry of fs.readdirSync("corpus", { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const text = fs.readFileSync(path.join(entry.parentPath ?? entry.path, entry.name), "utf8");
  for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) counts.set(word, (counts.get(word) ?? 0) + 1);
}
await new Promise((resolve) => setTimeout(resolve, 1500));
const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, params.top);
fs.mkdirSync("out", { recursive: true });
fs.writeFileSync("out/top-words.json", JSON.stringify(Object.fromEntries(top), null, 2) + "\n");
fs.writeFileSync("out/README.txt", `top ${params.top} words of the corpus\n`);
fs.appendFileSync("../runs.log", "ran\n");
console.log(`transform: counted ${counts.size} distinct words`);
EOF
cat >contract.json <<'EOF'
{
  "name": "corpus word count",
  "inputs": [{ "name": "corpus", "path": "corpus" }],
  "transforms": [
    { "tool": "node", "tool_version": "20", "code_path": "transform.mjs", "params": { "top": 5 } }
  ],
  "outputs": { "path": "out" }
}
EOF
show cat contract.json
cat contract.json

say "1. Identity: hash the inputs and the code, print the URI (nothing is run or stored)"
show ctxpack id --contract contract.json
out=$(ctxpack id --contract contract.json)
echo "$out"
uri=$(uri_in "$out")
[[ -n "$uri" ]] || die "ctxpack id printed no ctx:// URI"

say "2. Run: a pantry miss, so the command runs and its outputs are seeded under that URI"
show ctxpack run --contract contract.json -- node transform.mjs
start=$(now_ms)
ctxpack run --contract contract.json -- node transform.mjs
miss_ms=$(($(now_ms) - start))
[[ -f out/top-words.json ]] || die "run wrote no out/top-words.json"
[[ "$(wc -l <"$work/runs.log")" -eq 1 ]] || die "the transform did not run exactly once"
echo "(miss: ${miss_ms} ms, transform ran)"
show cat out/top-words.json
cat out/top-words.json

say "3. Run again, with the outputs deleted: a pantry hit, the command is skipped and out/ is restored"
rm -rf out
show ctxpack run --contract contract.json -- node transform.mjs
start=$(now_ms)
ctxpack run --contract contract.json -- node transform.mjs
hit_ms=$(($(now_ms) - start))
[[ "$(wc -l <"$work/runs.log")" -eq 1 ]] || die "the transform ran again on a pantry hit"
[[ -f out/top-words.json ]] || die "the hit did not restore out/top-words.json"
echo "(hit: ${hit_ms} ms, transform skipped; the miss took ${miss_ms} ms)"

say "4. Inspect the pack: contract, outputs, provenance, sizes"
show ctxpack inspect "$uri"
ctxpack inspect "$uri"

say "5. Verify it: the URI re-derives from the stored contract, every file's size and digest match"
show ctxpack verify "$uri"
ctxpack verify "$uri"

say "6. Export it as one reproducible .tar.gz (manifest.json first, then artifacts/)"
show ctxpack export "$uri" -o ../pack.tar.gz
ctxpack export "$uri" -o ../pack.tar.gz
show tar -tzf ../pack.tar.gz
tar -tzf ../pack.tar.gz

say "7. Unpack it elsewhere (verified before anything is moved into place)"
show ctxpack unpack ../pack.tar.gz -o ../elsewhere
ctxpack unpack ../pack.tar.gz -o ../elsewhere
show diff -r out ../elsewhere
diff -r out ../elsewhere || die "the unpacked files differ from out/"
echo "(identical)"

say "8. Paths are not identity: the same project in another folder has the same URI"
cp -r "$work/project" "$work/moved"
show "(cd ../moved && ctxpack id --contract contract.json)"
moved=$(cd "$work/moved" && ctxpack id --contract contract.json)
echo "$moved"
[[ "$(uri_in "$moved")" == "$uri" ]] || die "moving the project changed the URI"

say "9. Change one byte of one input: a new URI, so a new run"
sed -i 's/quick/quack/' corpus/fox.txt
show ctxpack id --contract contract.json
changed=$(ctxpack id --contract contract.json)
echo "$changed"
[[ -n "$(uri_in "$changed")" && "$(uri_in "$changed")" != "$uri" ]] || die "changing an input did not change the URI"

say "Done: ctxpack demo passed (miss ${miss_ms} ms, hit ${hit_ms} ms)"
