#!/bin/sh
# The runsc of fuzz_task_server: answers every subcommand at once, so the fuzzer drives the
# shim's server and Task service, not gVisor. A "sandbox" is a `sleep` whose pid goes into the
# pid file; runsc exits and the sleep is reparented to the fuzzer (a child subreaper), which
# reaps it like the shim reaps a real sandbox. Its pid is kept in --root, so kill and delete
# can reach it. Nothing here blocks: the fuzzer's teardown kills what is left.
ROOT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root=*) ROOT="${1#--root=}" ;;
    --version) echo "runsc version release-20240729.0"; exit 0 ;;
    --*) ;;
    *) break ;;
  esac
  shift
done
SUBCMD="$1"
[ $# -gt 0 ] && shift

# Value of a subcommand flag given as `--name value` or `--name=value`.
flag_value() {
  name="$1"
  shift
  while [ $# -gt 0 ]; do
    case "$1" in
      "$name") echo "$2"; return ;;
      "$name"=*) echo "${1#"$name"=}"; return ;;
    esac
    shift
  done
}

sandbox_pid() { cat "$ROOT/fake-sandbox.pid" 2>/dev/null; }

case "$SUBCMD" in
  create | restore)
    sleep 600 </dev/null >/dev/null 2>&1 &
    echo $! >"$ROOT/fake-sandbox.pid"
    printf %s $! >"$(flag_value --pid-file "$@")"
    ;;
  start | pause | resume | checkpoint) ;;
  kill)
    # `kill [--all] [--pid P] ID SIGNAL`: an exec (--pid) has already exited here.
    [ -n "$(flag_value --pid "$@")" ] && exit 0
    for last; do :; done
    pid=$(sandbox_pid)
    [ -n "$pid" ] || { echo "container does not exist" >&2; exit 1; }
    kill -s "$last" "$pid" 2>/dev/null || kill "-$last" "$pid" 2>/dev/null || exit 1
    ;;
  delete)
    pid=$(sandbox_pid)
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    rm -f "$ROOT/fake-sandbox.pid"
    ;;
  state)
    for id; do :; done
    printf '{"ociVersion":"1.0.2-dev","id":"%s","status":"running","pid":%s,"bundle":"/b"}' \
      "$id" "$(sandbox_pid || echo 0)"
    ;;
  exec)
    # In the foreground runsc is the process's waiter: it ran and exited at once.
    echo 7 >"$(flag_value --internal-pid-file "$@")"
    echo $$ >"$(flag_value --pid-file "$@")"
    ;;
  ps) printf '[1,7]' ;;
  events) echo '{"type":"stats","id":"c","data":{"memory":{"usage":{"usage":2027520}}}}' ;;
  wait) echo '{"id":"c","exitStatus":0}' ;;
  *) echo "unknown subcommand $SUBCMD" >&2; exit 1 ;;
esac
exit 0
