#!/usr/bin/env bash
# grm set-up: installs the Debian packages grm needs and builds the pinned llama.cpp
# (from the node-llama-cpp npm package's git bundle) once into a cache outside the checkout.
# Idempotent: a second run only checks. Prints the llama.cpp prefix on its last line.
set -euo pipefail

LLAMA_NPM_VERSION=3.21.1
LLAMA_NPM_INTEGRITY='sha512-E3N0Ev2Va0wzydvXYFwM9Hvyo07PoWjt8T/9GMc43Cvt8YkV/NU/tYUgEMC1grTPv2o9PRjQi0G3Wb5P/awiMg=='
CACHE_ROOT=${GRM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/grm}
PREFIX="$CACHE_ROOT/llama.cpp-npm-$LLAMA_NPM_VERSION"
JOBS=${GRM_JOBS:-$(nproc)}

APT_PACKAGES=(build-essential cmake git pkg-config ca-certificates openssl unzip
  libtorch-dev libgloo-dev libopenblas0-openmp libsentencepiece-dev sentencepiece
  libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev nlohmann-json3-dev libcli11-dev
  python3-torch python3-numpy)

need() { command -v "$1" >/dev/null || { echo "[setup] $1 is required (Node.js with npm)" >&2; exit 1; }; }
log() { echo "[setup] $*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing apt packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# ggml-backend-impl.h: ggml's device interface, which grm's attention device implements
# (src/engines/exact_attention.cpp); llama.cpp does not install it
if [ ! -f "$PREFIX/.complete" ] || [ ! -f "$PREFIX/include/ggml-backend-impl.h" ]; then
  need npm
  mkdir -p "$CACHE_ROOT"
  work=$(mktemp -d "$CACHE_ROOT/build.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  log "fetching node-llama-cpp@$LLAMA_NPM_VERSION"
  (cd "$work" && npm pack --silent "node-llama-cpp@$LLAMA_NPM_VERSION" >/dev/null)
  tgz="$work/node-llama-cpp-$LLAMA_NPM_VERSION.tgz"
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$LLAMA_NPM_INTEGRITY" ]; then
    log "integrity mismatch for $tgz: got $got"; exit 1
  fi
  tar -xzf "$tgz" -C "$work" package/llama/gitRelease.bundle
  git -c advice.detachedHead=false clone -q "$work/package/llama/gitRelease.bundle" "$work/src"
  log "building llama.cpp (libraries + llama-server, CPU, -j$JOBS); takes about 8 minutes once"
  cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DGGML_NATIVE=ON -DGGML_CUDA=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON \
    -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_COMMON=ON \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" >"$work/configure.log" 2>&1 || { tail -30 "$work/configure.log"; exit 1; }
  cmake --build "$work/build" -j"$JOBS" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
  rm -rf "$PREFIX"
  cmake --install "$work/build" >/dev/null
  cp "$work/src/ggml/src/ggml-backend-impl.h" "$PREFIX/include/"
  (cd "$work/src" && git rev-parse HEAD) >"$PREFIX/COMMIT"
  touch "$PREFIX/.complete"
fi
echo "$PREFIX"
