#!/bin/sh
# A binary:// logger for the io tests: copies the container's stdout (fd 3) and stderr (fd 4)
# into the files named by the `out` and `err` arguments and records its environment in `env`.
while [ $# -ge 2 ]; do
  case "$1" in
    out) out=$2 ;;
    err) err=$2 ;;
    env) envfile=$2 ;;
  esac
  shift 2
done
env > "$envfile"
# The copies must not hold fd 5, or readiness would only be seen when they exit.
cat <&3 > "$out" 5>&- &
cat <&4 > "$err" 5>&- &
exec 3<&- 4<&- 5>&-
wait
