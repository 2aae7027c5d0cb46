#!/bin/sh
# Fuzz one target for a bounded time and record the verdict.
#
# Usage: tests/fuzz/run.sh FUZZ_BIN SECONDS SEEDS_DIR RESULTS_DIR
#
# Runs the libFuzzer binary FUZZ_BIN for SECONDS (-max_total_time) on a copy
# of SEEDS_DIR under RESULTS_DIR/NAME/corpus, NAME being FUZZ_BIN's file
# name, with libFuzzer's default 2 GiB RSS limit.  Writes
# RESULTS_DIR/NAME/fuzz.log, any crashing input to RESULTS_DIR/NAME/artifacts/,
# and RESULTS_DIR/NAME.count: "1 0" if the run ended cleanly, "0 1" (and a
# non-zero exit) if it found a crash, a leak, a timeout or an out-of-memory.
set -u

if [ $# -ne 4 ]; then
	echo "usage: $0 FUZZ_BIN SECONDS SEEDS_DIR RESULTS_DIR" >&2
	exit 2
fi
bin=$1
secs=$2
seeds=$3
name=$(basename "$bin")
out=$4/$name

mkdir -p "$out/corpus" "$out/artifacts"
cp "$seeds"/* "$out/corpus/"

# -timeout: one input taking this long is a hang (the slowest legitimate
# input, a 64 MiB decompression bomb under ASan, takes a few seconds).
"$bin" -max_total_time="$secs" -timeout=60 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$out/artifacts/" \
	"$out/corpus" >"$out/fuzz.log" 2>&1
rc=$?

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" | tail -n 1)
if [ "$rc" -eq 0 ]; then
	echo "1 0" >"$4/$name.count"
	echo "ok   $name (${runs:-?} inputs in ${secs}s)"
	exit 0
fi
echo "0 1" >"$4/$name.count"
echo "FAIL $name (exit $rc), log:"
tail -n 40 "$out/fuzz.log" | sed 's/^/    /'
ls "$out/artifacts" 2>/dev/null | sed 's/^/    artifact: /'
exit 1
