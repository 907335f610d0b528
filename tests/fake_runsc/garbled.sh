#!/bin/bash
# A runsc that exits 0 but says nonsense: half a JSON document for state, junk for ps, and
# no pid file for create.
. "$(dirname "$0")/common.sh"
case "$SUBCMD" in
  state) echo -n '{"id": "c1", "pid": 12' ;;
  ps) echo 'ps: unknown format' ;;
  create) ;;
esac
exit 0
