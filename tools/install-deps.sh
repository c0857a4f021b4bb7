#!/usr/bin/env bash
# Installs the given Debian packages that are not installed yet; does nothing when all are there.
# Idempotent and non-interactive. Uses sudo when not root.
set -euo pipefail
missing=()
for pkg in "$@"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$pkg")
done
# nodejs from NodeSource already bundles npm; Debian's npm package conflicts with it.
if ! command -v npm >/dev/null 2>&1 && dpkg-query -W nodejs >/dev/null 2>&1; then missing+=(npm); fi
[ ${#missing[@]} -eq 0 ] && { echo "deps: all ${#@} packages present"; exit 0; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
