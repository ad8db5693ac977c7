#!/usr/bin/env bash
# Installs the stagegate binary for the composite action (action.yml).
# 1. a prebuilt release asset for this runner, verified against the release's
#    published sha256 list; 2. else a build from the action's own source.
# Inputs arrive as environment variables only.
set -euo pipefail

version=${STAGEGATE_VERSION:?}
dest=${STAGEGATE_INSTALL_DIR:?}
repo=${STAGEGATE_ACTION_REPOSITORY:-}
mkdir -p "$dest/bin"

case "${STAGEGATE_RUNNER_OS:-}-${STAGEGATE_RUNNER_ARCH:-}" in
  Linux-X64) target=x86_64-unknown-linux-gnu ;;
  Linux-ARM64) target=aarch64-unknown-linux-gnu ;;
  macOS-X64) target=x86_64-apple-darwin ;;
  macOS-ARM64) target=aarch64-apple-darwin ;;
  *) target="" ;;
esac

if [[ -n "$target" && -n "$repo" && "$version" =~ ^[0-9A-Za-z.+-]+$ ]]; then
  base="https://github.com/$repo/releases/download/v$version"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  asset="stagegate-$target.tar.gz"
  if curl -fsSL --retry 3 -o "$tmp/$asset" "$base/$asset" && curl -fsSL --retry 3 -o "$tmp/sha256sums.txt" "$base/sha256sums.txt"; then
    if (cd "$tmp" && grep -E "  $asset\$" sha256sums.txt | sha256sum -c --status -); then
      tar -xzf "$tmp/$asset" -C "$dest/bin" stagegate
      echo "stagegate $version installed from the release asset ($target, sha256 verified)"
      exit 0
    fi
    echo "::warning::the sha256 of $asset does not match the release's sha256sums.txt; building from source instead"
  else
    echo "no prebuilt stagegate $version for $target; building from source"
  fi
fi

cargo install --locked --quiet --path "$GITHUB_ACTION_PATH" --root "$dest"
echo "stagegate built from source into $dest"
