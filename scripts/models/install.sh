#!/usr/bin/env bash
# `make models`: installs every model part (scripts/models/*.sh but this one) into the
# machine-wide cache $ASSAY_CACHE (default /var/cache/assay), each keyed by its version so a
# machine that has it skips it. Idempotent; nothing is written into the repository.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export ASSAY_CACHE="${ASSAY_CACHE:-/var/cache/assay}"
mkdir -p "$ASSAY_CACHE"
for part in "$here"/*.sh; do
    [ "$(basename "$part")" = install.sh ] && continue
    bash "$part"
done
