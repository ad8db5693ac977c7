#!/bin/sh
# Demo deploy hook. "Deploys" $STAGEGATE_RELEASE to $STAGEGATE_ENV by writing
# the page its health check reads, and makes sure the tiny local web server
# runs. Context comes only from STAGEGATE_* variables.
# DEMO_BREAK=<release id> makes that release fail to come up (no health page).
set -eu
. "$(dirname "$0")/statedir.sh"
www="$(state_path "demo/www/$STAGEGATE_ENV")" || exit 1
mkdir -p "$www"
state_path "demo/www/$STAGEGATE_ENV/release" > /dev/null || exit 1
state_path "demo/www/$STAGEGATE_ENV/healthz" > /dev/null || exit 1
echo "deploying $STAGEGATE_RELEASE ($STAGEGATE_REF) to $STAGEGATE_ENV"
printf '%s\n' "$STAGEGATE_RELEASE" > "$www/release"
if [ "${DEMO_BREAK:-}" = "$STAGEGATE_RELEASE" ]; then
  echo "$STAGEGATE_RELEASE does not come up (DEMO_BREAK): its health page is missing"
  rm -f "$www/healthz"
else
  printf 'ok %s\n' "$STAGEGATE_RELEASE" > "$www/healthz"
fi
exec sh "$(dirname "$0")/serve.sh"
