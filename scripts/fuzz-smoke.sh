#!/usr/bin/env bash
# A short coverage-guided fuzzing run of every history-parser target in fuzz/ (cargo-afl:
# AFL++ built from the afl crate, on the stable toolchain), starting from the corpus in
# fuzz/corpus/. CI runs it after the tests; the long runs are in fuzz/README.md.
#
#   scripts/fuzz-smoke.sh [SECONDS_PER_TARGET]     (default 20)
#
# Installs cargo-afl 0.18.2 from crates.io and builds AFL++ once when they are missing.
# Fails (exit 1) when a target crashed or hung, naming the input to replay; prints each
# target's executions. A hang is an input that takes over 3 s (on a loaded machine the
# first runs of the corpus may be slow: those are skipped, not failed).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-20}
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$PWD/../target/fuzz}
for tool in clang llvm-config; do
  if ! command -v "$tool" >/dev/null && ! ls /usr/lib/llvm-*/bin/"$tool" >/dev/null 2>&1; then
    echo "fuzz-smoke: cargo-afl builds AFL++ with clang and LLVM; run: apt-get install -y clang llvm-dev" >&2
    exit 1
  fi
done
if ! command -v cargo-afl >/dev/null; then
  echo "fuzz-smoke: installing cargo-afl (cargo install cargo-afl --locked --version 0.18.2)" >&2
  cargo install cargo-afl --locked --version 0.18.2
fi
# Builds AFL++ for this toolchain unless it is built already (then it refuses: fine).
cargo afl config --build >/dev/null 2>&1 || true
cargo afl build --release --locked
out=$(mktemp -d "${TMPDIR:-/tmp}/faultline-fuzz-smoke.XXXXXX")
trap 'rm -rf "$out"' EXIT
status=0
for target in fuzz_edn fuzz_porcupine fuzz_jsonl; do
  corpus=corpus/${target#fuzz_}
  AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
    AFL_NO_AFFINITY=1 \
    cargo afl fuzz -i "$corpus" -o "$out/$target" -V "$seconds" -t 3000+ \
    "$CARGO_TARGET_DIR/release/$target" >"$out/$target.log" 2>&1 || {
    echo "fuzz-smoke: $target: afl-fuzz failed; its log:" >&2
    tail -20 "$out/$target.log" >&2
    status=1
    continue
  }
  stats=$out/$target/default/fuzzer_stats
  execs=$(awk -F: '/^execs_done/ {gsub(/ /, "", $2); print $2}' "$stats")
  crashes=$(awk -F: '/^saved_crashes/ {gsub(/ /, "", $2); print $2}' "$stats")
  hangs=$(awk -F: '/^saved_hangs/ {gsub(/ /, "", $2); print $2}' "$stats")
  echo "fuzz-smoke: $target: $execs executions in ${seconds}s, $crashes crash(es), $hangs hang(s)"
  if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
    for f in "$out/$target"/default/crashes/id* "$out/$target"/default/hangs/id*; do
      [ -e "$f" ] || continue
      echo "fuzz-smoke: $target: failing input (base64; replay it through faultline_checkers::fuzz_targets):" >&2
      base64 -w0 "$f" >&2
      echo >&2
    done
    status=1
  fi
done
exit $status
