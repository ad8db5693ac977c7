#!/bin/sh
# Demo backup hook: keeps what $STAGEGATE_ENV serves now, for rollback.sh.
set -eu
www="$STAGEGATE_STATE_DIR/demo/www/$STAGEGATE_ENV"
backup="$STAGEGATE_STATE_DIR/demo/backup/$STAGEGATE_ENV"
rm -rf "$backup"
mkdir -p "$backup"
if [ -d "$www" ]; then
  cp -R "$www/." "$backup/"
fi
echo "backed up $STAGEGATE_ENV (${STAGEGATE_PREVIOUS_RELEASE:-empty}) to $backup"
