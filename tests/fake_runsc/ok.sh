#!/bin/bash
# A runsc that succeeds: create/restore write a pid file (this script's own pid, a real
# process id), exec writes both pid files (its own pid: the waiter), state/ps/events print JSON.
. "$(dirname "$0")/common.sh"
case "$SUBCMD" in
  create | restore)
    echo -n 4242 >"$(flag_value --pid-file "$@")"
    ;;
  exec)
    # As runsc in the foreground: the internal pid, then its own pid once the process runs.
    echo 7 >"$(flag_value --internal-pid-file "$@")"
    echo $$ >"$(flag_value --pid-file "$@")"
    ;;
  state)
    id="${*: -1}"
    printf '{\n  "ociVersion": "1.0.2-dev",\n  "id": "%s",\n  "status": "running",\n  "pid": 4242,\n  "bundle": "/b"\n}' "$id"
    ;;
  ps) echo -n '[1,7]' ;;
  events) echo '{"type":"stats","id":"c1","data":{"memory":{"usage":{"usage":2027520}}}}' ;;
esac
exit 0
