#!/usr/bin/env bash
# Runs stagegate for the composite action. The command and its arguments come
# from environment variables: the command is split into words that must look
# like subcommand names, and each line of STAGEGATE_ARGS is one argument. Values
# from untrusted sources (workflow inputs, event payloads) should come as step
# env vars STAGEGATE_ARG_<NAME>: each becomes exactly `--name VALUE`, whatever
# the value contains (newlines included). No input is ever evaluated by a shell.
set -euo pipefail

bin=${STAGEGATE_BIN:?}
read -r -a words <<< "${STAGEGATE_COMMAND:?the action needs a command}"
for w in "${words[@]}"; do
  if [[ ! "$w" =~ ^[a-z][a-z-]*$ ]]; then
    echo "::error::invalid stagegate command word: only lowercase subcommand names belong in 'command'; put values in 'args'"
    exit 2
  fi
done

# The `config` input only when given: without it stagegate reads
# .github/stagegate.yml when it exists, else its embedded default config.
if [[ -n "${STAGEGATE_INPUT_CONFIG:-}" ]]; then
  export STAGEGATE_CONFIG=$STAGEGATE_INPUT_CONFIG
fi
unset STAGEGATE_INPUT_CONFIG

args=()
while IFS= read -r line; do
  [[ -n "$line" ]] && args+=("$line")
done <<< "${STAGEGATE_ARGS:-}"

while IFS= read -r name; do
  [[ -n "${!name}" ]] || continue
  flag=${name#STAGEGATE_ARG_}
  flag=${flag,,}
  args+=("--${flag//_/-}" "${!name}")
done < <(compgen -e | grep '^STAGEGATE_ARG_' | sort)

exec "$bin" "${words[@]}" "${args[@]}"
