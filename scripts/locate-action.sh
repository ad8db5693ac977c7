#!/usr/bin/env bash
# Where the composite action (action.yml) keeps the stagegate binary, and its
# cache key. The key names the version, the action's ref and a hash of the
# action's own source, so a new action commit (or a moved branch or tag) never
# runs a binary built from an older one. Writes `dir` and `key` to
# $GITHUB_OUTPUT. Inputs arrive as environment variables only.
set -euo pipefail

version=${STAGEGATE_VERSION:?}
src=${GITHUB_ACTION_PATH:?}
# Cache keys may not contain commas; keep refs readable but safe.
ref=${STAGEGATE_ACTION_REF:-local}
ref=${ref//[^0-9A-Za-z._\/-]/_}
source_hash=$(
  cd "$src"
  # The workspace: the binary (src), its library crates and the embedded examples.
  paths=()
  for p in Cargo.toml Cargo.lock src crates examples; do
    if [ -e "$p" ]; then paths+=("$p"); fi
  done
  find "${paths[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
)
id="$version-$source_hash"
{
  echo "dir=${STAGEGATE_TOOL_CACHE:?}/stagegate/$id"
  echo "key=stagegate-$version-$ref-$source_hash-${STAGEGATE_RUNNER_OS:-}-${STAGEGATE_RUNNER_ARCH:-}"
} >> "${GITHUB_OUTPUT:?}"
