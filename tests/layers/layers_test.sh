#!/bin/sh
# The layers, as the build enforces them (docs/README.md, "Layers").  One
# line a check, "ok - ..." or "FAIL - ...", and a non-zero exit status if
# any failed:
#   - each layer's library needs nothing from a layer it is not built on
#     (its undefined symbols that pvboot defines are defined by its own
#     layers: nm over build/lib);
#   - a program linked as a tests/boot test is cannot reach the harness
#     (tests/layers/probe.c: a link error naming the function), and the
#     same program linked with the harness's layers builds;
#   - no source or test includes another layer's private header: src/L
#     includes only its own headers and include/pvboot; tests/L only
#     src/L's (tests/real are the harness's).
# Usage: tests/layers/layers_test.sh   (from the repository root, after make)
set -u
make="${MAKE:-make}"
build=${BUILD:-build}
scratch=$build/tests-scratch/layers.$$
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch"
failed=0
pass() { echo "ok - $1"; }
fail() {
	echo "FAIL - $1"
	failed=1
}

libs_of() { $make -s --no-print-directory layer-libs LAYER="$1"; }
layers=$($make -s --no-print-directory layer-names)

# 1. Undefined symbols of each library, against what its layers define.
for l in $layers; do
	lib=$build/lib/libpv$l.a
	if [ ! -f "$lib" ]; then
		fail "$lib is not built"
		continue
	fi
	allowed=$(libs_of "$l")
	nm --defined-only -g $allowed 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u >"$scratch/allowed"
	nm --defined-only -g "$build"/lib/libpv*.a 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u >"$scratch/all"
	nm -u "$lib" | awk '{ print $2 }' | sort -u >"$scratch/needs"
	# Needed, defined somewhere in pvboot, but not by the layer's own libraries.
	bad=$(comm -12 "$scratch/needs" "$scratch/all" | comm -23 - "$scratch/allowed" | tr '\n' ' ')
	if [ -z "$bad" ]; then
		pass "libpv$l.a needs nothing above its layers ($(echo "$allowed" | wc -w) libraries)"
	else
		fail "libpv$l.a uses what its layers do not give: $bad"
	fi
done

# 2. The probe: a link error as a tests/boot program, a program as the harness's.
cc=${CC:-cc}
flags="-std=c11 -D_GNU_SOURCE -Iinclude -I$build/xeninc"
syslibs="-lelf -lz -lbz2 -llzma -llzo2 -llz4 -lzstd -lm"
if $cc $flags tests/layers/probe.c $(libs_of "boot sim") $syslibs -o "$scratch/probe-boot" 2>"$scratch/err"; then
	fail "a tests/boot program linked run_plan_init from the harness"
elif grep -q "undefined reference to .run_plan_init'" "$scratch/err"; then
	pass "a tests/boot program that calls the harness does not link: $(grep -m1 -o "undefined reference to .run_plan_init'" "$scratch/err")"
else
	fail "the probe failed to link for another reason: $(head -n 3 "$scratch/err" | tr '\n' ' ')"
fi
if $cc $flags tests/layers/probe.c $(libs_of harness) $syslibs -o "$scratch/probe-harness" 2>"$scratch/err"; then
	pass "the same program links with the harness's layers"
else
	fail "the probe does not link even with the harness: $(head -n 3 "$scratch/err" | tr '\n' ' ')"
fi

# 3. Private headers: #include "..." that leaves the layer's own directory.
bad=""
for f in $(find src tests bench kernel -name '*.[ch]' | sort); do
	case $f in
	src/*) own=src/$(echo "$f" | cut -d/ -f2) ;;
	tests/real/*) own=src/harness ;;
	tests/*) own=src/$(echo "$f" | cut -d/ -f2) ;;
	*) own=none ;;
	esac
	dir=$(dirname "$f")
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		# Resolve as the compiler does: beside the file, then tests/ (-Itests).
		if [ -f "$dir/$inc" ]; then
			path=$(realpath --relative-to=. "$dir/$inc")
		elif [ -f "tests/$inc" ]; then
			path=$(realpath --relative-to=. "tests/$inc")
		else
			path=$inc
		fi
		case $path in
		src/*) [ "${path#"$own"/}" = "$path" ] && bad="$bad $f:$inc" ;;
		esac
	done
done
if [ -z "$bad" ]; then
	pass "no file includes another layer's private header"
else
	fail "private headers of another layer included:$bad"
fi
exit $failed
