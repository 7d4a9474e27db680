#!/usr/bin/env bash
# One-command setup for a fresh Debian machine (Python 3.11, root, no display, no GPU).
#
#   bash tools/bootstrap.sh run    install everything, then open the editor on the bundled demo
#   bash tools/bootstrap.sh test   install everything, then run the whole test suite headless
#   bash tools/bootstrap.sh install   only install
#
# System packages (Xvfb, X/XCB and GL libraries) are installed with apt-get where missing.
# Python packages go into .venv/ in the repository (torch first, from its CPU build).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MODE=${1:-install}
shift || true
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3

SYSTEM_PACKAGES="xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
libxcb-xinerama0 libxcb-xkb1 libxcb-shape0 libxcb-randr0 libxcb-cursor0 libxkbcommon-x11-0 \
libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri libglu1-mesa libgles2 libfontconfig1 libdbus-1-3 fonts-dejavu-core"

install_system() {
  local missing=()
  for p in $SYSTEM_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "[bootstrap] installing system packages: ${missing[*]}"
    local SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

install_python() {
  if [ ! -x .venv/bin/python ]; then
    echo "[bootstrap] creating .venv with $PY"
    "$PY" -m venv .venv
  fi
  local stamp=.venv/.bootstrap-stamp
  local want
  want=$(cat pyproject.toml tools/bootstrap.sh | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  echo "[bootstrap] installing Python packages into .venv (torch CPU build first)"
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  # torch must come before anything that depends on it, or the CUDA wheels are pulled in.
  .venv/bin/python -m pip install -q "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip install -q -e ".[all]" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import torch, PySide6, pyrender, nuscenes, diffusers, ray, tqdm, mypy" \
    || { echo "[bootstrap] Python packages failed to install"; exit 1; }
  echo "$want" > "$stamp"
}

with_display() {
  # Run "$@" with an X display: the user's if there is one, otherwise a private Xvfb.
  if [ -n "${DISPLAY:-}" ] && [ "${CI:-}" != "true" ]; then
    "$@"
  else
    xvfb-run -a -s "-screen 0 1920x1080x24 +extension GLX" "$@"
  fi
}

export MPLBACKEND=Agg
export PYOPENGL_PLATFORM=egl
export QT_XCB_GL_INTEGRATION=xcb_egl
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-xcb}

install_system
install_python

case "$MODE" in
  install) echo "[bootstrap] installed. Run: .venv/bin/python main.py" ;;
  run)  with_display .venv/bin/python main.py "$@" ;;
  test)
    # lint, types and layer/cycle contracts first: a finding fails the run before the (longer) tests
    echo "[bootstrap] ruff check"; .venv/bin/ruff check .
    echo "[bootstrap] mypy (strict on engine/ and editor/)"; .venv/bin/mypy
    echo "[bootstrap] import-linter"; .venv/bin/lint-imports
    with_display .venv/bin/python -m pytest "$@" ;;
  *) echo "usage: bash tools/bootstrap.sh [install|run|test] [args...]"; exit 2 ;;
esac
