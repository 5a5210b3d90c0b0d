#!/usr/bin/env bash
# What only the test suite needs beyond scripts/setup.sh: Debian's chromium, which the customer page's browser tests
# drive through Playwright (Playwright cannot download its own browsers here). Idempotent.
set -euo pipefail
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "test-deps: installing Debian's chromium for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
  elif command -v sudo >/dev/null; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "test-deps: please install Debian's chromium package (the browser tests use it)" >&2
    exit 1
  fi
fi
