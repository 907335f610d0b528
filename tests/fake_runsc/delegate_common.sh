# Sourced by the delegating fakes (tests/integration/test_resilience.py): they run the real
# runsc for every subcommand but the one they break. Unlike common.sh this leaves "$@" intact
# (the real runsc gets the exact command line) and writes nothing under --root: a stray file
# there would keep the shim from removing the sandbox's runsc root.
REAL_RUNSC="${REAL_RUNSC:-/usr/bin/runsc}"
LOG=""
SUBCMD=""
for arg in "$@"; do
  case "$arg" in
    --log=*) LOG="${arg#--log=}" ;;
    --*) ;;  # the shim passes every global flag as --name=value
    *)
      SUBCMD="$arg"
      break
      ;;
  esac
done

delegate() {
  exec "$REAL_RUNSC" "$@"
}

# One log.json object as runsc writes it (`--log-format=json`).
log_error() {
  printf '{"msg":"%s","level":"error","time":"%s"}\n' "$1" "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" >>"$LOG"
}
