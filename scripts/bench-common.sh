# Sourced by the benchmark scripts: the build (unless BATON names a prebuilt binary), the bench
# folder, and an environment free of the variables that would change what Baton does.
# Sets BATON and BENCH_DIR (absolute), exports CARGO_TARGET_DIR and BATON_LOG, defines log.

BENCH_DIR=${BENCH_DIR:-/tmp/baton-bench}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/target-bench}

log() { printf '\n== %s\n' "$*" >&2; }

if [ -z "${BATON:-}" ]; then
  log "cargo build --release (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
  cargo build --release --quiet
  BATON="$CARGO_TARGET_DIR/release/baton"
fi
BATON=$(realpath "$BATON")
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(realpath "$BENCH_DIR")

# Baton must not find a token, a dispatch event, a cache or settings in the caller's environment.
unset GITHUB_TOKEN PATCHER_READ_TOKEN PATCHER_EXECUTE_TOKEN GITHUB_EVENT_NAME GITHUB_EVENT_PATH \
  GITHUB_ACTIONS GITHUB_STEP_SUMMARY BATON_INCLUDE_DIRS BATON_EXCLUDE_DIRS BATON_DEPENDENCY \
  BATON_SPEC BATON_SPEC_FILE BATON_FORMAT BATON_WORKING_DIR BATON_ENV BATON_CONFIG \
  BATON_CACHE_DIR BATON_CACHE_MAX_AGE 2>/dev/null || true
export BATON_LOG=warn
