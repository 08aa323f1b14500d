#!/usr/bin/env bash
# Installs everything mnas needs on a Debian 12 machine, idempotently and offline-safe:
# Debian packages (libtorch, an optimized BLAS, build tools, the Fashion-MNIST dataset),
# npm packages from the lockfile, the native libtorch addon and the TypeScript build.
# LIBTORCH=/path/to/libtorch builds the addon against another libtorch distribution
# (its include/ and lib/ folders); the Debian packages are then not required.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[setup] $*"; }

# redis-server: the distributed-search tests start their own (src/distributed/testing.ts)
apt_packages=(build-essential python3 dataset-fashion-mnist chromium redis-server)
if [ -z "${LIBTORCH:-}" ]; then apt_packages+=(libtorch-dev libopenblas0-openmp); fi
apt_packages+=(${MNAS_EXTRA_APT:-})

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export ONNXRUNTIME_NODE_INSTALL_CUDA=skip
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.mnas-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.mnas-lock-hash
fi

addon=native/build/Release/mnas_torch.node
if [ ! -f "$addon" ] || [ ! -f native/build/Release/mnas_sys.node ] || [ -n "$(find native -maxdepth 1 \( -name '*.cc' -o -name '*.h' -o -name '*.gyp' \) -newer "$addon")" ]; then
  log "building the libtorch addon (a few minutes the first time)"
  npm run --silent build:native >/dev/null
fi

log "compiling TypeScript"
npx tsc -p tsconfig.json
log "ready"
