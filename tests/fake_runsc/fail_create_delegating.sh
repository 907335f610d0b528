#!/bin/bash
# The real runsc, except that `create` fails the way runsc does: an error object in the --log
# file, the same text on stderr, exit status 1, nothing created.
. "$(dirname "$0")/delegate_common.sh"
if [ "$SUBCMD" = create ]; then
  log_error "fake failure in create"
  echo "fake failure in create" >&2
  exit 1
fi
delegate "$@"
