#!/bin/bash
# make check: everything, in order, each step counted. The last line is
# "N passed, N failed" over all steps (a step that runs many tests counts each).
# Runs on a fresh Debian 12 machine after `make setup` (the Makefile does that first).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/build/check
mkdir -p "$OUT"
passed=0 failed=0
t_start=$SECONDS

ok() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "not ok - $1"; failed=$((failed + 1)); }

# step NAME CMD...: run, log to build/check/NAME.log, count as one test.
step() {
	local name=$1
	shift
	local t0=$SECONDS
	if "$@" >"$OUT/$name.log" 2>&1; then
		ok "$name ($((SECONDS - t0)) s)"
	else
		fail "$name ($((SECONDS - t0)) s): see build/check/$name.log"
		tail -n 20 "$OUT/$name.log" | sed 's/^/#   /'
		return 1
	fi
}

# A build is clean when it prints no compiler, sparse, objtool or modpost warning.
clean_build() {
	local k=$1
	rm -rf "$ROOT/build/kmod-$k"
	make -s module KERNEL="$k" KMAKEFLAGS="W=1 C=2" 2>&1 | tee "$OUT/build-$k.raw"
	[ "${PIPESTATUS[0]}" = 0 ] || return 1
	if grep -E 'warning|error|WARNING' "$OUT/build-$k.raw" | grep -v 'Skipping BTF generation'; then
		echo "build for $k printed warnings" >&2
		return 1
	fi
	test -f "$ROOT/build/kmod-$k/dbgkvm.ko"
}

echo "# dbgkvm make check"
for k in 6.1 6.12; do
	step "build-$k-W1-sparse-objtool" clean_build "$k"
done

# Host unit tests: each GoogleTest case is one CTest test; count them.
if step unit-build bash -c "cmake -S tests/unit -B build/unit -DCMAKE_BUILD_TYPE=Debug && cmake --build build/unit -j2"; then
	(cd build/unit && ctest -j2 --output-on-failure) >"$OUT/unit.log" 2>&1
	summary=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$OUT/unit.log" | tail -n1)
	total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
	nfail=$(sed -E 's/.*passed, ([0-9]+) tests failed.*/\1/' <<<"$summary")
	if [ -z "$summary" ]; then
		fail "unit tests: no summary (see build/check/unit.log)"
	else
		echo "# unit: $summary"
		passed=$((passed + total - nfail))
		failed=$((failed + nfail))
		[ "$nfail" = 0 ] || grep -E '^\s+[0-9]+ - .*\(Failed\)' "$OUT/unit.log" | sed 's/^/#   /'
	fi
fi

step selftests-build make -s selftests

# The emulated machines. Each run prints TAP and "N passed, N failed".
vmtest() {
	local vm=$1 k=$2 target=$3 name="vmtest-$1-$2-$3"
	local t0=$SECONDS
	bash scripts/vmtest.sh --vm "$vm" --kernel "$k" --target "$target" \
		--module "$ROOT/build/kmod-$k/dbgkvm.ko" --tests "$ROOT/build/selftests/bin" \
		--out "$ROOT/build/vmtest/$vm-$k-$target" >"$OUT/$name.log" 2>&1
	local rc=$?
	grep -E '^(# |[a-z_]+: (not ok|# ))' "$OUT/$name.log" | grep -v ': # totals' | head -n 40
	local line p f
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/$name.log" | tail -n1)
	p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
	if [ -z "$line" ]; then
		fail "$name: no result line (rc $rc, see build/check/$name.log)"
		return
	fi
	echo "# $name: $line ($((SECONDS - t0)) s)"
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		fail "$name exited $rc"
	fi
}

for k in 6.1 6.12; do
	for target in dbgkvm kvm; do
		vmtest qemu-svm "$k" "$target"
	done
done

echo "# make check took $((SECONDS - t_start)) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
