#!/bin/sh
# Demo verify hook (a smoke test): the environment serves the release just deployed.
set -eu
served="$(cat "$STAGEGATE_STATE_DIR/demo/www/$STAGEGATE_ENV/release" 2>/dev/null || true)"
if [ "$served" != "$STAGEGATE_RELEASE" ]; then
  echo "$STAGEGATE_ENV serves '${served:-nothing}', expected $STAGEGATE_RELEASE" >&2
  exit 1
fi
echo "$STAGEGATE_ENV serves $STAGEGATE_RELEASE"
