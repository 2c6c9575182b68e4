#!/usr/bin/env bash
# The test command: installs what the tests need, builds Stratus twice
# (warnings as errors; then AddressSanitizer + UBSan), runs every test in both,
# runs each fuzzer briefly, and ends with one line counting the results.
#
#   FUZZ_SECONDS=N   seconds per fuzzer (default 15; 0 skips fuzzing)
#   JOBS=N           parallel build jobs (default: nproc)
#   CTEST_JOBS=N     tests run at once (default 8: the suite must hold on a
#                    loaded 2-core machine)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-15}
passed=0
failed=0

./scripts/install-deps.sh || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }

# Run ctest in a build dir and add its counts to the totals.
run_suite() {
  local dir=$1 label=$2 out total nfail tmp
  # The tests' temporary directories go under a directory of this run, so
  # that what a test killed by its timeout left running (its server, its
  # jobs' node processes) can be found and stopped afterwards.
  tmp=$(mktemp -d /tmp/sXXXXXX) # short: tests put $TMP in names with length limits
  out=$(cd "$dir" && TMPDIR=$tmp ctest --output-on-failure -j"${CTEST_JOBS:-8}" 2>&1)
  pkill -9 -f "$root/$dir/stratus server" 2>/dev/null
  pkill -9 -f "$tmp/" 2>/dev/null
  rm -rf "$tmp"
  echo "$out" | sed "s/^/[$label] /"
  # What the fault harnesses exercised (their summary lines).
  grep -hE "^(crash points|failed writes|failed commits|disks full|disk full)" \
    "$dir/Testing/Temporary/LastTest.log" 2>/dev/null | sed "s/^/[$label] /"
  total=$(echo "$out" | sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' | tail -1)
  nfail=$(echo "$out" | sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p' | tail -1)
  if [ -z "$total" ]; then
    echo "[$label] ctest did not run"; failed=$((failed + 1)); return
  fi
  passed=$((passed + total - nfail))
  failed=$((failed + nfail))
}

build() {
  local dir=$1; shift
  cmake -S "$root" -B "$dir" -DSTRATUS_WERROR=ON "$@" >/dev/null &&
    cmake --build "$dir" -j"$jobs" 2>&1 | grep -E "error|warning|Error" ; return "${PIPESTATUS[0]}"
}

echo "== build (warnings are errors)"
if build build; then run_suite build release; else echo "build failed"; failed=$((failed + 1)); fi

echo "== build with AddressSanitizer + UBSan"
if build build-asan -DSTRATUS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suite build-asan asan
else
  echo "sanitizer build failed"; failed=$((failed + 1))
fi

if [ "$fuzz_seconds" -gt 0 ]; then
  echo "== fuzzers, ${fuzz_seconds}s each"
  if CC=clang build build-fuzz -DSTRATUS_FUZZ=ON -DSTRATUS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug; then
    # As many fuzzers at once as there are cores (each is one process), their
    # results said in name order once all have run.
    fz=$(mktemp -d)
    for f in build-fuzz/fuzz_*; do
      name=$(basename "$f")
      while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
      (
        corpus=$(mktemp -d)
        cp -r "fuzz/corpus/${name#fuzz_}/." "$corpus/" 2>/dev/null || true
        "$f" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 "$corpus" >"$fz/$name.log" 2>&1
        echo $? >"$fz/$name.rc"
        rm -rf "$corpus"
      ) &
    done
    wait
    for f in build-fuzz/fuzz_*; do
      name=$(basename "$f")
      if [ "$(cat "$fz/$name.rc" 2>/dev/null)" = 0 ]; then
        echo "[fuzz] $name: $(grep -o 'Done [0-9]* runs' "$fz/$name.log" | tail -1)"; passed=$((passed + 1))
      else
        echo "[fuzz] $name FAILED:"; tail -40 "$fz/$name.log"; failed=$((failed + 1))
      fi
    done
    rm -rf "$fz"
  else
    echo "fuzz build failed"; failed=$((failed + 1))
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
