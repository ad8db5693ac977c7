#!/usr/bin/env bash
# The project's test command (README, .ci/run). Installs what the tests need,
# then: format check, clippy with warnings as errors, the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

# Test peers. Prism validates every GitHub request the tests send against
# GitHub's own OpenAPI description (both from npm, pinned in the lock file).
if [ ! -x tests/prism/node_modules/.bin/prism ] || [ tests/prism/package-lock.json -nt tests/prism/node_modules/.package-lock.json ]; then
  echo "== installing Prism and GitHub's OpenAPI description (npm ci)"
  command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
  npm ci --prefix tests/prism --no-audit --no-fund --loglevel=error
fi

# Ruby's File.fnmatch is the oracle for GitHub's branch and tag policy globs.
command -v ruby >/dev/null || { echo "== installing ruby (apt)"; apt-get update -qq && apt-get install -y -qq ruby; }

# Workflow linters, for action.yml, the templates, what `init` writes and .github/.
# pip puts zizmor in Python's scripts directory; make sure that is on PATH.
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$HOME/.cargo/bin:$PATH"
export PATH
if ! command -v zizmor >/dev/null || [ "$(zizmor --version)" != "zizmor 1.32.0" ]; then
  echo "== installing zizmor (PyPI)"
  python3 -m pip install --quiet --disable-pip-version-check "zizmor==1.32.0"
fi
if ! command -v action-validator >/dev/null; then
  echo "== installing action-validator (crates.io)"
  cargo install --locked --quiet action-validator --version 0.9.0
fi

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --locked
