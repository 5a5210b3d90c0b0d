#!/usr/bin/env bash
# One-time (and idempotent) set-up of a Debian 12 machine for HotPot Spot: Debian packages, then the venv.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

# Debian packages: libpulse0 (QtMultimedia will not import without it), the libraries Qt's offscreen and xcb
# platforms load (xcb: the counter app on a real screen), Tesseract (the KYC desk reads MRZs with it) and the OCR-B
# font (the KYC tests render documents in it), and the PostgreSQL server binaries the test suite starts when no
# server is running.
APT_PACKAGES=(libpulse0 libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
              libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0
              libxcb-randr0 libxcb-xkb1 fonts-dejavu-core tesseract-ocr fonts-ocr-b)
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  APT_PACKAGES+=(postgresql)
fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null; then
    echo "setup: installing Debian packages with sudo: ${missing[*]}"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install these Debian packages first: ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating the virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e '.[dev]'
echo "setup: done ($("$VENV/bin/python" --version), $VENV)"
