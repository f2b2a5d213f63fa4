#!/bin/sh
# Installs the browser the dashboard's end-to-end tests drive (web/e2e, playwright-core): Debian's
# Chromium at /usr/bin/chromium. Does nothing when it is there already. Needs root (CI runs as root);
# without /usr/bin/chromium the browser tests are skipped, everything else still runs.
set -eu
if [ -x /usr/bin/chromium ]; then
  echo "install-browser: /usr/bin/chromium is installed ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-browser: /usr/bin/chromium is missing; run as root: apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium
/usr/bin/chromium --version
