#!/usr/bin/env bash
# Installs what building (and, with the `test` profile, testing) ctxpack needs. Every step checks first
# and is skipped when the right version is already there, so a second run takes well under a second.
#
#   bash scripts/setup.sh [build|test]     build (default): wasm32 target, wasm-bindgen CLI at Cargo.lock's
#                                          version, wasm-pack, npm devDependencies (binaryen's wasm-opt, rollup)
#                                          test: build + skopeo, python3, docker-registry,
#                                          apache2-utils and chromium from Debian, the oras Python SDK
#                                          from PyPI (playwright-core and workerd are npm devDependencies)
#   source scripts/setup.sh [build|test]   the same, and puts the tools on the calling shell's PATH
#
# Needs: the Rust toolchain (rustup), Node >= 20 with npm; apt-get (as root or via sudo) for `test`.
# Never installs Debian's `binaryen`: its wasm-opt (108) writes wasm that fails at load time. The
# wasm-opt used is npm binaryen's (package.json), found first on PATH via node_modules/.bin.

_ctxpack_setup() {
  local profile="${1:-build}"
  case "$profile" in
    build | test) ;;
    *) echo "usage: scripts/setup.sh [build|test]" >&2; return 2 ;;
  esac
  local started=$SECONDS wasm_pack_version=0.15.1

  command -v cargo >/dev/null && command -v rustc >/dev/null || {
    echo "setup: cargo/rustc not found; install Rust with rustup (https://rustup.rs) first" >&2
    return 1
  }
  command -v node >/dev/null && command -v npm >/dev/null || {
    echo "setup: node/npm not found; install Node >= 20 first" >&2
    return 1
  }
  local node_major
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  if ((node_major < 20)); then
    echo "setup: Node >= 20 required, found $(node --version)" >&2
    return 1
  fi

  # Rust standard library for wasm32.
  if [[ -d "$(rustc --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ]]; then
    echo "setup: ok        rust target wasm32-unknown-unknown ($(rustc --version | cut -d' ' -f2))"
  else
    echo "setup: install   rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi

  # wasm-bindgen CLI: must equal the wasm-bindgen crate version in Cargo.lock. No --locked: the CLI's own
  # lock file pins crates newer than some registry mirrors hold.
  local want have
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
  [[ -n "$want" ]] || { echo "setup: no wasm-bindgen entry in Cargo.lock" >&2; return 1; }
  have=$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2 || true)
  if [[ "$have" == "$want" ]]; then
    echo "setup: ok        wasm-bindgen-cli $have"
  else
    echo "setup: install   wasm-bindgen-cli $want (found: ${have:-none}; takes ~3-4 min)"
    cargo install wasm-bindgen-cli --version "$want" --force
  fi

  have=$(wasm-pack --version 2>/dev/null | cut -d' ' -f2 || true)
  if [[ "$have" == "$wasm_pack_version" ]]; then
    echo "setup: ok        wasm-pack $have"
  else
    echo "setup: install   wasm-pack $wasm_pack_version (found: ${have:-none}; takes ~3 min)"
    cargo install wasm-pack --version "$wasm_pack_version" --force
  fi

  # npm devDependencies, pinned exactly in package.json; reinstall from package-lock.json on any mismatch.
  local stale
  stale=$(node -e '
    const fs = require("node:fs");
    const deps = JSON.parse(fs.readFileSync("package.json", "utf8")).devDependencies ?? {};
    const bad = Object.entries(deps).filter(([name, version]) => {
      try { return JSON.parse(fs.readFileSync(`node_modules/${name}/package.json`, "utf8")).version !== version; }
      catch { return true; }
    });
    console.log(bad.map(([name, version]) => `${name}@${version}`).join(" "));')
  if [[ -z "$stale" ]]; then
    echo "setup: ok        npm devDependencies ($(node -p 'Object.entries(require("./package.json").devDependencies).map(([n, v]) => n + "@" + v).join(" ")'))"
  else
    echo "setup: install   npm ci ($stale)"
    npm ci --no-audit --no-fund --no-update-notifier
  fi
  local wasm_opt
  wasm_opt=$(command -v wasm-opt || true)
  if [[ "$wasm_opt" != "$PWD/node_modules/.bin/wasm-opt" ]]; then
    echo "setup: wasm-opt on PATH is '${wasm_opt:-none}', expected npm binaryen's $PWD/node_modules/.bin/wasm-opt" >&2
    return 1
  fi

  # What the tests use: skopeo (reads the pantry, copies through registries), python3 (tarfile writes the
  # hostile packs), docker-registry (CNCF Distribution 2.8.2, the real registry of tests/registry) and
  # htpasswd (apache2-utils: its bcrypt users) and chromium (tests/www drive it with npm playwright-core, never
  # a downloaded browser) and pigz (the peer of bench/perf.mjs) from Debian; the `oras` Python SDK (tests/interop) from PyPI, into .tools/venv when
  # the system pip refuses (PEP 668, externally managed).
  if [[ "$profile" == test ]]; then
    local tool package missing=()
    for tool in skopeo:skopeo python3:python3 docker-registry:docker-registry htpasswd:apache2-utils chromium:chromium pigz:pigz; do
      package=${tool#*:}
      tool=${tool%%:*}
      if command -v "$tool" >/dev/null; then
        case "$tool" in
          docker-registry) echo "setup: ok        $tool ($("$tool" --version 2>&1 | head -n 1 | awk '{print $NF}'))" ;;
          htpasswd) echo "setup: ok        $tool ($package)" ;;
          chromium) echo "setup: ok        $("$tool" --version 2>/dev/null | head -n 1)" ;;
          *) echo "setup: ok        $tool ($("$tool" --version 2>&1 | head -n 1))" ;;
        esac
      else
        missing+=("$package")
      fi
    done
    if ((${#missing[@]})); then
      echo "setup: install   apt-get install -y ${missing[*]}"
      _ctxpack_apt_install "${missing[@]}"
    fi

    local venv="$PWD/.tools/venv" oras_spec='oras>=0.2,<0.3'
    if python3 -c 'import oras' 2>/dev/null; then
      echo "setup: ok        python oras $(python3 -c 'import oras.version; print(oras.version.__version__)')"
    elif [[ -x "$venv/bin/python3" ]] && "$venv/bin/python3" -c 'import oras' 2>/dev/null; then
      echo "setup: ok        python oras $("$venv/bin/python3" -c 'import oras.version; print(oras.version.__version__)') (.tools/venv)"
    elif python3 -m pip install --quiet --disable-pip-version-check "$oras_spec" 2>/dev/null; then
      echo "setup: install   pip install $oras_spec"
    else
      echo "setup: install   $oras_spec into .tools/venv (system pip refused)"
      if ! python3 -m venv "$venv" 2>/dev/null; then
        rm -rf "$venv"
        _ctxpack_apt_install python3-venv
        python3 -m venv "$venv"
      fi
      "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check "$oras_spec"
    fi

    # securesystemslib (DSSE + Ed25519): the independent verifier of signed packs (tests/registry/signing).
    local sslib_spec='securesystemslib[crypto]>=1,<2'
    if python3 -c 'import securesystemslib.dsse, cryptography' 2>/dev/null; then
      echo "setup: ok        python securesystemslib"
    elif [[ -x "$venv/bin/python3" ]] && "$venv/bin/python3" -c 'import securesystemslib.dsse, cryptography' 2>/dev/null; then
      echo "setup: ok        python securesystemslib (.tools/venv)"
    elif python3 -m pip install --quiet --disable-pip-version-check "$sslib_spec" 2>/dev/null; then
      echo "setup: install   pip install $sslib_spec"
    else
      echo "setup: install   $sslib_spec into .tools/venv (system pip refused)"
      [[ -x "$venv/bin/python3" ]] || python3 -m venv "$venv" || { _ctxpack_apt_install python3-venv; python3 -m venv "$venv"; }
      "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check "$sslib_spec"
    fi
  fi

  echo "setup: $profile toolchain ready ($((SECONDS - started)) s)"
}

_ctxpack_apt_install() {
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@"
}

# Puts cargo's bin directory and then node_modules/.bin at the front of PATH (moved there if already present).
_ctxpack_setup_path() {
  local dir
  for dir in "${CARGO_HOME:-$HOME/.cargo}/bin" "$1/node_modules/.bin"; do
    PATH=":$PATH:"
    while [[ "$PATH" == *":$dir:"* ]]; do PATH="${PATH//:$dir:/:}"; done
    PATH="${PATH#:}"
    PATH="$dir:${PATH%:}"
  done
  export PATH
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  _ctxpack_setup_path "$PWD"
  _ctxpack_setup "$@"
else
  # Sourced: install in a child shell (so errexit applies there and not to the caller), then extend PATH here.
  bash "${BASH_SOURCE[0]}" "$@" || return
  _ctxpack_setup_path "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  unset -f _ctxpack_setup _ctxpack_setup_path _ctxpack_apt_install
fi
