#!/usr/bin/env bash
# `make demo`: runs the segtune workflow end to end and prints each command as it goes.
set -euo pipefail
SEGTUNE=${1:-build/segtune}
run() { echo "+ $*" >&2; "$@"; }
run "$SEGTUNE" --version
run "$SEGTUNE" doctor
