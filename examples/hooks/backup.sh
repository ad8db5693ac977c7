#!/bin/sh
# Demo backup hook: keeps what $STAGEGATE_ENV serves now, for rollback.sh.
set -eu
. "$(dirname "$0")/statedir.sh"
www="$(state_path "demo/www/$STAGEGATE_ENV")" || exit 1
backup="$(state_path "demo/backup/$STAGEGATE_ENV")" || exit 1
rm -rf "$backup"
mkdir -p "$backup"
if [ -d "$www" ]; then
  cp -R "$www/." "$backup/"
fi
echo "backed up $STAGEGATE_ENV (${STAGEGATE_PREVIOUS_RELEASE:-empty}) to $backup"
