#!/bin/sh
# Demo rollback hook: restores what backup.sh kept; stagegate then redeploys
# the previous good release ($STAGEGATE_RELEASE) and verifies it again.
set -eu
www="$STAGEGATE_STATE_DIR/demo/www/$STAGEGATE_ENV"
backup="$STAGEGATE_STATE_DIR/demo/backup/$STAGEGATE_ENV"
rm -rf "$www"
mkdir -p "$www"
if [ -d "$backup" ]; then
  cp -R "$backup/." "$www/"
fi
echo "restored $STAGEGATE_ENV from $backup (undoing $STAGEGATE_PREVIOUS_RELEASE)"
