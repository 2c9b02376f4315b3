#!/usr/bin/env bash
# Fuzzes Baton's input parsers for a bounded time and prints executions and findings.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]        (default 60)
#
# Targets (fuzz/fuzz_targets, properties in fuzz/src/checks.rs):
#   source_parse  source::Source::parse on any text: no panic, a located version is exactly where
#                 it is written, IDs hold no spaces or control characters
#   hcl_edit      hcl::find + edit::apply_verified: every managed version edited to another valid
#                 version re-parses to the same tree except that version, and edits back exactly
#   skim          hcl::find, which parses only the items that can hold a source, finds what a parse
#                 of the whole text finds; blanking the other items keeps every offset
#   spec          spec::Spec::parse + validate: no panic, what validates is safe to act on
#   eval_bound    hcl::find on any text: usages or "interpolation too large", within the work
#                 limit for the file's size (resource bombs of locals, joins, concats, merges)
#
# With cargo-fuzz (`cargo install cargo-fuzz`) the libFuzzer targets run on the stable toolchain
# through RUSTC_BOOTSTRAP=1, seeded from the fixtures. Without it (or with FUZZ_ENGINE=proptest),
# the same checks run as the property tests of tests/integration/reliability.rs with a large
# PROPTEST_CASES (200 per second asked for).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
targets=(source_parse hcl_edit skim spec eval_bound)

seed_corpus() {
  local dir=fuzz/corpus
  mkdir -p "$dir/source_parse" "$dir/hcl_edit" "$dir/skim" "$dir/spec" "$dir/eval_bound"
  local n=0 f kind
  while IFS= read -r -d '' f; do
    case "$f" in
      *.stack.hcl) kind='\002' ;;
      *.hcl) kind='\001' ;;
      *) kind='\000' ;;
    esac
    n=$((n + 1))
    { printf "${kind}"'\001\002\003\000'; cat "$f"; } >"$dir/hcl_edit/fixture-$n"
    { printf "${kind}"; cat "$f"; } >"$dir/skim/fixture-$n"
    { printf "${kind}"; cat "$f"; } >"$dir/eval_bound/fixture-$n"
    grep -oE 'source *= *"[^"]*"' "$f" | sed -E 's/^source *= *"(.*)"$/\1/' |
      while IFS= read -r src; do
        printf '%s' "$src" >"$dir/source_parse/$(printf '%s' "$src" | cksum | cut -d' ' -f1)"
      done || true
  done < <(find tests/fixtures -type f \( -name '*.tf' -o -name '*.hcl' \) -print0)
  local s
  for s in \
    'git::git@github.com:gruntwork-io/terraform-aws-messaging.git//modules/sqs?ref=v0.8.0' \
    'github.com/acme/mods//modules/vpc?depth=1&ref=vpc-v1.2.0' \
    'git::ssh://git@gitlab.com/group/sub/mods.git//x?ref=1.2' \
    'tfr://registry.example.com/acme/vpc/aws//sub?version=3.5.0' \
    'terraform-aws-modules/vpc/aws' 's3::https://s3.amazonaws.com/b/m.zip' '../modules/x'; do
    printf '%s' "$s" >"$dir/source_parse/$(printf '%s' "$s" | cksum | cut -d' ' -f1)"
  done
  printf '%s' '{"IncludeDirPattern":"{*dev*}/**","ExcludeDirPattern":"","Dependencies":[{"ID":"gruntwork-io/terraform-aws-service-catalog/networking/vpc","Org":"gruntwork-io","Repo":"terraform-aws-service-catalog","Module":"networking/vpc","Constraints":null,"TargetSafeVersion":"0.95.1","TargetBreakingVersion":"0.96.0"}]}' >"$dir/spec/patcher"
  printf '%s' '{"Dependencies":[{"ID":"a/b","TargetSafeVersion":"1.1.0","Usages":[{"File":"dev/out/x.tf","Line":1,"Current":"v1.0.0"}]}],"Skipped":null,"Unreachable":[{"ID":"c/d","Error":"404"}]}' >"$dir/spec/usages"
}

if [ "${FUZZ_ENGINE:-}" != proptest ] && command -v cargo-fuzz >/dev/null 2>&1; then
  seed_corpus
  export RUSTC_BOOTSTRAP=1
  (cd fuzz && cargo fuzz build -O >/dev/null 2>&1) || (cd fuzz && cargo fuzz build -O)
  total_execs=0
  total_findings=0
  for t in "${targets[@]}"; do
    log="$(mktemp)"
    max_len=4096
    case "$t" in hcl_edit | skim) max_len=65536 ;; esac
    set +e
    (cd fuzz && cargo fuzz run -O "$t" "corpus/$t" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
      -dict=hcl.dict -print_final_stats=1) >"$log" 2>&1
    rc=$?
    set -e
    execs="$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)"
    execs="${execs:-0}"
    corpus="$(find "fuzz/corpus/$t" -type f | wc -l | tr -d ' ')"
    findings="$(find "fuzz/artifacts/$t" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) 2>/dev/null | wc -l | tr -d ' ')"
    total_execs=$((total_execs + execs))
    total_findings=$((total_findings + findings))
    printf '%-13s %10s executions in %ss, corpus %s inputs, findings %s (exit %s)\n' \
      "$t" "$execs" "$secs" "$corpus" "$findings" "$rc"
    if [ "$rc" -ne 0 ]; then
      grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 || true
    fi
    rm -f "$log"
  done
  echo "total: $total_execs executions, $total_findings findings (fuzz/artifacts/)"
  [ "$total_findings" -eq 0 ]
else
  cases=$((secs * 200))
  echo "running the property tests with PROPTEST_CASES=$cases"
  PROPTEST_CASES="$cases" cargo test --test integration reliability::properties -- --test-threads=4
  echo "total: $((cases * 6)) executions (6 properties x $cases cases), 0 findings"
fi
