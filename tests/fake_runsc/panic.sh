#!/bin/bash
# A runsc that panics: nothing in log.json, a Go panic on stderr, exit status 2.
. "$(dirname "$0")/common.sh"
printf 'panic: invalid state transition: paused => stopped\n\ngoroutine 1 [running]:\nmain.main()\n' >&2
exit 2
