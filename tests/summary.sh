#!/bin/sh
# Add up every suite's counts under RESULTS_DIR and print the closing line.
set -u
pass=0
fail=0
for f in $(find "$1" -name '*.count' | sort); do
	read -r p q <"$f"
	pass=$((pass + p))
	fail=$((fail + q))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
