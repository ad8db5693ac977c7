# Sourced by the demo hooks. The state directory lives in the checkout, so a
# committed symbolic link there would send the demo's writes elsewhere:
# `state_path REL` refuses (exit 1, naming the path) when $STAGEGATE_STATE_DIR
# or any component of REL below it is a symbolic link, or is something other
# than a directory or a regular file, and prints the path otherwise.
state_path() {
  _p="$STAGEGATE_STATE_DIR"
  _state_check "$_p"
  set -f
  _ifs=$IFS
  IFS=/
  for _c in $1; do
    IFS=$_ifs
    [ -n "$_c" ] || continue
    _p="$_p/$_c"
    _state_check "$_p"
  done
  IFS=$_ifs
  set +f
  printf '%s\n' "$_p"
}

_state_check() {
  if [ -L "$1" ]; then
    echo "refusing $1: it is a symbolic link (the demo never follows links in the state directory)" >&2
    exit 1
  fi
  if [ -e "$1" ] && [ ! -d "$1" ] && [ ! -f "$1" ]; then
    echo "refusing $1: it is neither a directory nor a regular file" >&2
    exit 1
  fi
}
