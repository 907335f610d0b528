# Shared by the fake runsc scripts: parses runsc's global flags like the real CLI does
# (`--root=R --log=L --log-format=json [--k=v...] <subcommand> args...`), leaving
# LOG, ROOT, SUBCMD and the subcommand's args in "$@". Every call is recorded in
# $ROOT/calls so tests can check what the driver ran.
LOG=""
ROOT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --log=*) LOG="${1#--log=}" ;;
    --root=*) ROOT="${1#--root=}" ;;
    --*) ;;
    *) break ;;
  esac
  shift
done
SUBCMD="$1"
shift
echo "$SUBCMD $*" >>"$ROOT/calls"

# Value of a subcommand flag given as `--name value`.
flag_value() {
  local name="$1"
  shift
  while [ $# -gt 0 ]; do
    if [ "$1" = "$name" ]; then
      echo "$2"
      return
    fi
    shift
  done
}

# One log.json object, written back to back with no newline like runsc 20221219 does.
log_error() {
  printf '{"msg":"%s","level":"error","time":"2026-11-22T20:33:37.154325117Z"}' "$1" >>"$LOG"
}
