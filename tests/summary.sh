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
# A stage that failed before its tests could count (a build error, say):
# make check lists them in stages/failed, one a line.
stages=""
if [ -s "$1/stages/failed" ]; then
	stages=$(tr '\n' ',' <"$1/stages/failed" | sed 's/,$//; s/,/, /g')
fi
if [ -n "$stages" ]; then
	echo "$pass passed, $fail failed; stages that failed: $stages"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ] && [ -z "$stages" ]
