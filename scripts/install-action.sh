#!/usr/bin/env bash
# Installs the stagegate binary for the composite action (action.yml).
# 1. a prebuilt release asset for this runner, verified against the release's
#    published sha256 list and, where the GitHub CLI is on the runner (GitHub-
#    hosted runners have it) and the release is on github.com, against the
#    build provenance the release job attested (`gh attestation verify`);
# 2. else a build from the action's own source.
# Whatever is in the install directory already (a stale binary from another
# version or commit) is replaced. Inputs arrive as environment variables only.
set -euo pipefail

version=${STAGEGATE_VERSION:?}
dest=${STAGEGATE_INSTALL_DIR:?}
repo=${STAGEGATE_ACTION_REPOSITORY:-}
server=${GITHUB_SERVER_URL:-https://github.com}
# The token reaches `gh attestation verify` alone, not curl, tar or cargo.
token=${STAGEGATE_GH_TOKEN:-}
unset STAGEGATE_GH_TOKEN
# The GitHub CLI that checks provenance; STAGEGATE_TEST_GH is the tests' stand-in.
gh_cli=${STAGEGATE_TEST_GH:-}
if [[ -z "$gh_cli" && "$server" == "https://github.com" ]]; then
  gh_cli=$(command -v gh || true)
fi
mkdir -p "$dest/bin"

case "${STAGEGATE_RUNNER_OS:-}-${STAGEGATE_RUNNER_ARCH:-}" in
  # Static musl builds: they run whatever the runner's glibc (or none).
  Linux-X64) target=x86_64-unknown-linux-musl ;;
  Linux-ARM64) target=aarch64-unknown-linux-musl ;;
  macOS-X64) target=x86_64-apple-darwin ;;
  macOS-ARM64) target=aarch64-apple-darwin ;;
  *) target="" ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fetch URL FILE: 0 on HTTP 200; else sets `why` to the reason and returns 1.
fetch() {
  local code
  if ! code=$(curl -sS -L --retry 3 --connect-timeout 10 -o "$2" -w '%{http_code}' "$1" 2> "$tmp/curl.err"); then
    why="cannot download $1 (network: $(tr '\n' ' ' < "$tmp/curl.err"))"
    return 1
  fi
  case "$code" in
    200) return 0 ;;
    404) why="release v$version of $repo has no $(basename "$1") (HTTP 404: no such release, or no build for $target)" ;;
    *) why="downloading $1 answered HTTP $code" ;;
  esac
  return 1
}

install_release() {
  if [[ -z "$target" ]]; then
    why="no prebuilt binaries for runner ${STAGEGATE_RUNNER_OS:-?}-${STAGEGATE_RUNNER_ARCH:-?}"
    return 1
  fi
  if [[ -z "$repo" ]]; then
    why="the action's repository is unknown (a local action, \`uses: ./\`)"
    return 1
  fi
  if [[ ! "$version" =~ ^[0-9A-Za-z.+-]+$ ]]; then
    why="version '$version' is not a release version"
    return 1
  fi
  local base="$server/$repo/releases/download/v$version" asset="stagegate-$target.tar.gz"
  fetch "$base/$asset" "$tmp/$asset" || return 1
  fetch "$base/sha256sums.txt" "$tmp/sha256sums.txt" || return 1
  if ! grep -qE "  $asset\$" "$tmp/sha256sums.txt"; then
    echo "::warning::release v$version's sha256sums.txt does not list $asset; not using it"
    why="no checksum for $asset"
    return 1
  fi
  if ! (cd "$tmp" && grep -E "  $asset\$" sha256sums.txt | sha256sum -c --status -); then
    echo "::warning::checksum mismatch: the sha256 of $asset does not match release v$version's sha256sums.txt; not using it"
    why="checksum mismatch for $asset"
    return 1
  fi
  provenance=""
  if [[ -n "$gh_cli" ]]; then
    # The attestation must come from this repository's release workflow.
    if ! GH_TOKEN=$token "$gh_cli" attestation verify "$tmp/$asset" --repo "$repo" \
      --signer-workflow "$repo/.github/workflows/ci.yml" > "$tmp/gh.out" 2>&1; then
      echo "::warning::gh attestation verify found no build provenance for $asset from $repo's release workflow; not using it"
      why="no verified build provenance for $asset ($(head -n 3 "$tmp/gh.out" | tr '\n' ' '))"
      return 1
    fi
    provenance=", build provenance verified"
  fi
  tar -xzf "$tmp/$asset" -C "$tmp" stagegate
  # Replace, never merge with, what an earlier install left.
  install -m 0755 "$tmp/stagegate" "$dest/bin/stagegate.new"
  mv -f "$dest/bin/stagegate.new" "$dest/bin/stagegate"
}

if install_release; then
  echo "stagegate $version installed from the release asset ($target, sha256 verified$provenance)"
  exit 0
fi
echo "no prebuilt stagegate $version: $why; building from source (a few minutes)"
command -v cargo > /dev/null || {
  echo "::error::cannot build stagegate from source: cargo is not on PATH (install Rust, e.g. with dtolnay/rust-toolchain, before this action)"
  exit 1
}
cargo install --locked --force --quiet --path "${GITHUB_ACTION_PATH:?}" --root "$dest"
echo "stagegate built from source into $dest"
