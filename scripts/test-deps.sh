#!/usr/bin/env bash
# What only the test suite needs beyond scripts/setup.sh, from Debian's packages (idempotent):
#   chromium                  the console's and customer page's browser tests (Playwright cannot download browsers)
#   nginx                     the TLS edge test (packaging/nginx-hotpot-hq.conf, run by the test in its own prefix)
#   prometheus, alertmanager  promtool and amtool check the monitoring config; the test runs prometheus itself
#   lintian                   checks the Debian packages `make dist` builds (the package tests build them)
#   xvfb, x11-utils           the installed counter app on a virtual X screen (Xvfb), its window found by xwininfo
#   gstreamer's RTSP server   a real RTSP camera on 127.0.0.1 (tests/fixtures/rtsp_server.py, run by Debian's
#     (gir1.2-gst-rtsp-server-1.0, python3-gi, gstreamer1.0-plugins-base/-good)      python3 with PyGObject)
# Their services are not started by the install (a policy-rc.d refuses it for the duration): the tests start what
# they need on ports of their own.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v promtool >/dev/null || need+=(prometheus)
command -v amtool >/dev/null || need+=(prometheus-alertmanager)
command -v lintian >/dev/null || need+=(lintian)
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xwininfo >/dev/null || need+=(x11-utils)
/usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer' \
  2>/dev/null || need+=(gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good)
[ -e /usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstjpeg.so ] || need+=(gstreamer1.0-plugins-good)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    exec sudo "$0" "$@"
  fi
  echo "test-deps: please install Debian's ${need[*]} (the tests use them)" >&2
  exit 1
fi
echo "test-deps: installing Debian's ${need[*]} for the tests"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 0755 "$policy"
  made_policy=1
fi
trap '[ "$made_policy" -eq 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
