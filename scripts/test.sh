#!/usr/bin/env bash
# The test command: every test of ctxpack. Installs what it needs first (scripts/setup.sh test), then
#   1. cargo test                      the Rust core, natively: format rules, rejections, spec vectors
#                                      (first: docs/spec-vectors.json matches its independent Python model)
#      cargo check --target wasm32-unknown-unknown   the lean core (--no-default-features --features packs)
#                                      and the identity core (--no-default-features) compile
#   2. node scripts/build.mjs --pack   the wasm cores (full, lean, identity), build/package and
#                                      dist/ctxpack-<version>.tgz
#   3. node --test                     tests/js (CLI + JS API + core), tests/package (npm install of the
#                                      tarball), tests/registry (push/pull/copy against real registries
#                                      with auth and injected faults), tests/interop (skopeo and oras read
#                                      the pantry and the registry), tests/www (`ctxpack serve` and the
#                                      browser inspector in Debian's Chromium), tests/edge (the edge example
#                                      in the real workerd)
# CTXPACK_TEST_LARGE=1 adds the multi-GiB bounded-memory pull (tests/registry/large.test.mjs, minutes).
# Exits non-zero when any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

step() {
  local name=$1 start=$SECONDS
  shift
  echo
  echo "==> $name"
  "$@"
  echo "==> $name: ok ($((SECONDS - start)) s)"
}

source scripts/setup.sh test
step "spec vectors up to date (independent Python model)" python3 docs/vectors/gen_vectors.py --check
step "cargo test (native core)" cargo test
step "lean core compiles (wasm32, packs feature only)" cargo check --no-default-features --features packs --target wasm32-unknown-unknown
step "identity core compiles (wasm32, no feature)" cargo check --no-default-features --target wasm32-unknown-unknown
step "build (wasm core, npm package)" node scripts/build.mjs --pack
# The tests never read or write the user's own configuration (trust policy, audit key): a fresh config folder.
XDG_CONFIG_HOME=$(mktemp -d "${TMPDIR:-/tmp}/ctxpack-test-config.XXXXXX")
export XDG_CONFIG_HOME
trap 'rm -rf "$XDG_CONFIG_HOME"' EXIT
echo
echo "==> node --test tests/js tests/package tests/registry tests/interop tests/www tests/edge"
node --test --test-reporter=spec tests/js/ tests/package/ tests/registry/ tests/interop/ tests/www/ tests/edge/
