#!/bin/sh
# Run tests and count what passed and failed into RESULTS_DIR/<name>.count:
# cmocka binaries by cmocka's own summary lines, shell scripts (*.sh) by
# their "ok - ..." and "FAIL - ..." lines, one a check.
# Usage: tests/run.sh RESULTS_DIR TEST...
set -u
results=$1
shift
mkdir -p "$results"
total_pass=0
total_fail=0
for t in "$@"; do
	name=$(echo "$t" | sed 's|.*/tests/||; s|^tests/||; s|/|_|g; s|\.sh$||')
	log="$results/$name.log"
	"$t" >"$log" 2>&1
	rc=$?
	case $t in
	*.sh)
		pass=$(grep -c '^ok - ' "$log")
		fail=$(grep -c '^FAIL - ' "$log")
		;;
	*)
		pass=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$log" | tail -n 1)
		fail=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' "$log" | tail -n 1)
		;;
	esac
	pass=${pass:-0}
	fail=${fail:-0}
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		# Crashed or failed outside cmocka's bookkeeping: count it.
		fail=1
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
