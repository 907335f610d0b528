#!/bin/bash
# The real runsc, except that `start` never returns (one process: the shim's deadline SIGKILL
# ends it). The sandbox made by the real `create` stays in the created state.
. "$(dirname "$0")/delegate_common.sh"
if [ "$SUBCMD" = start ]; then
  exec sleep 1000
fi
delegate "$@"
