#!/bin/bash
# A runsc that fails the way the real one does: an error object appended to --log, the same
# text on stderr, exit status 128. The message is chosen by the subcommand.
. "$(dirname "$0")/common.sh"
case "$SUBCMD" in
  state | kill) msg='loading container: file does not exist' ;;
  start) msg='starting container: cannot start container \"c1\" in state stopped' ;;
  create) msg='creating container: cannot create sandbox: something broke' ;;
  pause) exit 3 ;;  # no log line at all: the driver must fall back to the exit status
  *) msg="$SUBCMD failed" ;;
esac
log_error "$msg"
echo "$msg" >&2
exit 128
