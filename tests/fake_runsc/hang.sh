#!/bin/bash
# A runsc that never answers. `exec` keeps one process, so the driver's SIGKILL ends it all.
. "$(dirname "$0")/common.sh"
echo $$ >"$ROOT/hang.pid"
exec sleep 1000
