#!/bin/sh
# Run shell test scripts that print "ok - ..." and "FAIL - ..." a check;
# count them into RESULTS_DIR/<script>.count as tests/run.sh does for cmocka.
# Usage: tests/run-sh.sh RESULTS_DIR SCRIPT...
set -u
results=$1
shift
mkdir -p "$results"
total_pass=0
total_fail=0
for t in "$@"; do
	name=$(echo "$t" | sed 's|^tests/||; s|/|_|g; s|\.sh$||')
	log="$results/$name.log"
	"$t" >"$log" 2>&1
	rc=$?
	pass=$(grep -c '^ok - ' "$log")
	fail=$(grep -c '^FAIL - ' "$log")
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		fail=1 # it stopped without saying which check
	fi
	echo "$pass $fail" >"$results/$name.count"
	if [ "$fail" -ne 0 ]; then
		echo "FAIL $name ($pass passed, $fail failed), log:"
		sed "s/^/    /" "$log" | tail -n 60
	else
		echo "ok   $name ($pass passed)"
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
done
echo "$(basename "$results"): $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
