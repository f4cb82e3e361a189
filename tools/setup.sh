#!/usr/bin/env bash
# mdrl installer: Debian packages, the pinned LibTorch (torch wheel from PyPI) in a virtual
# environment OUTSIDE the checkout, then configure and build. Idempotent: a second run installs
# nothing and only rebuilds what changed. Used by README.md, .ci/run and the Slurm job scripts.
#
#   tools/setup.sh [--preset NAME] [--python PATH] [--no-apt] [--no-build]
#
# Environment:
#   MDRL_CACHE   cache folder (default ~/.cache/mdrl): the venv, pip's download cache
#   MDRL_PRESET  CMake preset to build (default: release)
#   MDRL_PYTHON  an existing Python with torch 2.11 (e.g. a GPU node's PyTorch): no venv is made
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TORCH_VERSION="2.11.0"
MDRL_CACHE="${MDRL_CACHE:-$HOME/.cache/mdrl}"
VENV="$MDRL_CACHE/venv-torch$TORCH_VERSION"
PRESET="${MDRL_PRESET:-release}"
PYTHON="${MDRL_PYTHON:-}"
DO_APT=1
DO_BUILD=1

while [[ $# -gt 0 ]]; do
  case "$1" in
    --preset) PRESET="$2"; shift 2 ;;
    --python) PYTHON="$2"; shift 2 ;;
    --no-apt) DO_APT=0; shift ;;
    --no-build) DO_BUILD=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$MDRL_CACHE"
# Several jobs (e.g. a Slurm array) may run this at once: one at a time through the cache.
exec 9>"$MDRL_CACHE/setup.lock"
flock 9

# ---- 1. Debian packages ----------------------------------------------------------------------
PACKAGES=(g++ cmake ninja-build ccache git pkg-config python3 python3-venv
          libopenmpi-dev openmpi-bin libhdf5-openmpi-dev
          libboost-program-options-dev libboost-test-dev nlohmann-json3-dev
          libpcre2-dev libutf8proc-dev
          chromium fonts-dejavu-core)  # headless rendering of tools/mdrl-analyze reports (a test)
# The sanitizer trees (presets fuzz and asan; tools/check_sanitizers.sh, run by tools/test.sh in CI)
# need clang with libFuzzer: installed in CI or with MDRL_SANITIZERS=1.
if [[ ${CI:-} == true || ${MDRL_SANITIZERS:-0} == 1 ]]; then
  PACKAGES+=(clang libclang-rt-14-dev)
fi
if [[ $DO_APT == 1 ]]; then
  if command -v dpkg-query >/dev/null; then
    missing=()
    for p in "${PACKAGES[@]}"; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
      say "installing Debian packages: ${missing[*]}"
      SUDO=""
      if [[ $EUID -ne 0 ]]; then
        command -v sudo >/dev/null && sudo -n true 2>/dev/null || \
          die "missing packages ${missing[*]}; install them as root (apt-get install ${missing[*]}) and rerun"
        SUDO="sudo"
      fi
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      say "Debian packages present"
    fi
  else
    say "not a Debian system: skipping packages; provide MPI, parallel HDF5, Boost, nlohmann-json, PCRE2 and utf8proc (e.g. 'module load')"
  fi
fi

# ---- 2. LibTorch through the torch wheel, in a venv outside the checkout -------------------------
torch_ok() {
  "$1" - <<PY 2>/dev/null
import torch, numpy, h5py, matplotlib, tokenizers, safetensors, transformers
assert torch.__version__.split("+")[0] == "$TORCH_VERSION", torch.__version__
PY
}
if [[ -n "$PYTHON" ]]; then
  "$PYTHON" -c "import torch" 2>/dev/null || die "--python $PYTHON has no torch package"
  say "using existing PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)') from $PYTHON"
else
  PYTHON="$VENV/bin/python"
  if [[ -x "$PYTHON" ]] && torch_ok "$PYTHON"; then
    say "torch $TORCH_VERSION present in $VENV"
  else
    say "creating $VENV with torch==$TORCH_VERSION (a few GB, once; later clones reuse it)"
    [[ -x "$PYTHON" ]] || python3 -m venv "$VENV"
    export PIP_CACHE_DIR="$MDRL_CACHE/pip"
    "$PYTHON" -m pip install -q --upgrade pip
    # tokenizers, transformers and safetensors: independent references for the parity tests.
    "$PYTHON" -m pip install -q "torch==$TORCH_VERSION" numpy h5py matplotlib tokenizers \
      "transformers==5.24.0" safetensors
    torch_ok "$PYTHON" || die "torch $TORCH_VERSION did not install into $VENV"
  fi
fi

# ---- 3. Configure and build ------------------------------------------------------------------------
if [[ $DO_BUILD == 1 ]]; then
  cd "$ROOT"
  say "configuring preset '$PRESET'"
  cmake --preset "$PRESET" -DMDRL_PYTHON="$PYTHON" >"$MDRL_CACHE/configure-$PRESET.log" 2>&1 || {
    tail -n 40 "$MDRL_CACHE/configure-$PRESET.log" >&2; die "configure failed (log: $MDRL_CACHE/configure-$PRESET.log)"; }
  say "building (build/$PRESET)"
  cmake --build --preset "$PRESET" -j "$(nproc)"
  say "done: build/$PRESET/bin/mdrl"
fi
