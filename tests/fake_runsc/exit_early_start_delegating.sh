#!/bin/bash
# The real runsc, except that `start` dies at once, silently: no log line, nothing on stderr,
# exit status 1. The real `create` did make a sandbox, which must not outlive the container.
. "$(dirname "$0")/delegate_common.sh"
if [ "$SUBCMD" = start ]; then
  exit 1
fi
delegate "$@"
