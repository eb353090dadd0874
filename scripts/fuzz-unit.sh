#!/bin/bash
# Unit fuzzing of the pure C++ (kmod/emulate, kmod/debugreg, kmod/core/memslots.cpp) with
# libFuzzer under ASan and UBSan: the harnesses in tests/fuzz (tests/fuzz/README.md).
#
#   scripts/fuzz-unit.sh [run] [HARNESS...]   build, then fuzz each for $FUZZ_UNIT_SECONDS (30)
#   scripts/fuzz-unit.sh replay [HARNESS...]  build, then run each over its repo corpus only
#
# Binaries go to build/fuzz-unit/<harness>. Fuzzing starts from a copy of the repo corpus
# (tests/fuzz/corpus/<harness>, never written) in build/fuzz-unit/corpus/<harness>, which
# keeps what earlier runs found; crash, timeout and OOM inputs go to
# build/fuzz-unit/crashes/<harness>/, logs to build/fuzz-unit/logs/. One line per harness:
#   ok - fuzz-unit <harness>: N execs in S s, C corpus units, cov E
#   not ok - fuzz-unit <harness>: crashed: <file> (replay: build/fuzz-unit/<harness> <file>)
# Exits non-zero when a harness failed to build or found a crash.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
OUT=build/fuzz-unit
CXX=${FUZZ_UNIT_CXX:-clang++-14}
SECONDS_EACH=${FUZZ_UNIT_SECONDS:-30}

# The include directories of tests/unit/CMakeLists.txt, its warnings, and the sanitizers.
# shellcheck disable=SC2054 # the commas are part of -fsanitize=
CXXFLAGS=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-I"$ROOT/kmod" -I"$ROOT/kmod/glue" -I"$ROOT/include" -I"$ROOT"
	-Wall -Wextra -Werror -Wold-style-cast -Wzero-as-null-pointer-constant -Wsuggest-override)

ALL=(fuzz_decode fuzz_paging fuzz_memslots fuzz_debugreg)

# The pure sources each harness links, and its input size limit.
sources() {
	case $1 in
	fuzz_decode) echo kmod/emulate/decode.cpp kmod/emulate/mmio.cpp ;;
	fuzz_paging) echo kmod/emulate/paging.cpp ;;
	fuzz_memslots) echo kmod/core/memslots.cpp ;;
	fuzz_debugreg) echo kmod/debugreg/*.cpp ;;
	esac
}
max_len() {
	case $1 in
	fuzz_decode) echo 64 ;;
	*) echo 1024 ;;
	esac
}

mode=run
if [ "${1:-}" = run ] || [ "${1:-}" = replay ]; then
	mode=$1
	shift
fi
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${ALL[@]}")
for h in "${harnesses[@]}"; do
	case " ${ALL[*]} " in
	*" $h "*) ;;
	*)
		echo "fuzz-unit: unknown harness $h (have: ${ALL[*]})" >&2
		exit 2
		;;
	esac
done

if ! command -v "$CXX" >/dev/null; then
	echo "not ok - fuzz-unit: $CXX not found (make setup installs clang and libclang-rt-14-dev)"
	exit 1
fi
mkdir -p "$OUT/logs"

# Rebuilt when anything it may include or link is newer than the binary.
build() {
	local h=$1 bin=$OUT/$1
	if [ -x "$bin" ] && [ -z "$(find tests/fuzz kmod include scripts/fuzz-unit.sh -newer "$bin" \
		\( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.sh' \) -print -quit)" ]; then
		return 0
	fi
	# shellcheck disable=SC2046 # word splitting of the source list is intended
	"$CXX" "${CXXFLAGS[@]}" "tests/fuzz/$h.cpp" $(sources "$h") -o "$bin.tmp" \
		>"$OUT/logs/$h.build.log" 2>&1 && mv "$bin.tmp" "$bin"
}

failed=0
for h in "${harnesses[@]}"; do
	if ! build "$h"; then
		echo "not ok - fuzz-unit $h: build failed (log: $OUT/logs/$h.build.log)"
		sed 's/^/#   /' "$OUT/logs/$h.build.log" | head -n 20
		failed=1
		continue
	fi
	log=$OUT/logs/$h.log
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

	if [ "$mode" = replay ]; then
		# Each repo corpus file once, nothing written.
		files=(tests/fuzz/corpus/"$h"/*)
		if "$OUT/$h" "${files[@]}" >"$log" 2>&1; then
			echo "ok - fuzz-unit replay $h: ${#files[@]} inputs"
		else
			bad=$(grep -o 'Running: .*' "$log" | tail -n 1 | sed 's/^Running: //')
			echo "not ok - fuzz-unit replay $h: failed on $bad (replay: $OUT/$h $bad; log: $log)"
			grep -m 3 -E 'FUZZ_CHECK|runtime error|ERROR: ' "$log" | sed 's/^/#   /'
			failed=1
		fi
		continue
	fi

	corpus=$OUT/corpus/$h
	crashes=$OUT/crashes/$h
	mkdir -p "$corpus" "$crashes"
	cp tests/fuzz/corpus/"$h"/* "$corpus"/
	t0=$SECONDS
	"$OUT/$h" -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$h")" -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1
	rc=$?
	elapsed=$((SECONDS - t0))
	crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	if [ $rc = 0 ] && [ -z "$crash" ]; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
		cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$done_line")
		units=$(sed -n 's/.*corp: \([0-9]*\)\/.*/\1/p' <<<"$done_line")
		echo "ok - fuzz-unit $h: ${execs:-?} execs in $elapsed s, ${units:-?} corpus units, cov ${cov:-?}"
	else
		if [ -n "$crash" ]; then
			echo "not ok - fuzz-unit $h: crashed: $crash (replay: $OUT/$h $crash; log: $log)"
		else
			echo "not ok - fuzz-unit $h: libFuzzer exited with $rc (log: $log)"
		fi
		grep -m 3 -E 'FUZZ_CHECK|runtime error|ERROR: ' "$log" | sed 's/^/#   /'
		failed=1
	fi
done
exit $failed
