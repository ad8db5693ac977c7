#!/bin/sh
# Demo rollback hook: restores what backup.sh kept; stagegate then redeploys
# the previous good release ($STAGEGATE_RELEASE) and verifies it again.
set -eu
. "$(dirname "$0")/statedir.sh"
www="$(state_path "demo/www/$STAGEGATE_ENV")" || exit 1
backup="$(state_path "demo/backup/$STAGEGATE_ENV")" || exit 1
rm -rf "$www"
mkdir -p "$www"
if [ -d "$backup" ]; then
  cp -R "$backup/." "$www/"
fi
echo "restored $STAGEGATE_ENV from $backup (undoing $STAGEGATE_PREVIOUS_RELEASE)"
