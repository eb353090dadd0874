#!/bin/bash
# vmtest.sh: boots an emulated test machine with a Debian kernel, loads dbgkvm
# (or Debian's own KVM as the reference), runs the selftests inside and reports.
#
#   scripts/vmtest.sh --vm qemu-svm|bochs-vmx --kernel 6.1|6.12 --target dbgkvm|kvm
#       [--module PATH/dbgkvm.ko] [--tests DIR] [--out DIR] [--timeout SECONDS]
#       [--test-timeout SECONDS] [--demo] [--only NAME[,NAME]]
#       [--append "extra kernel args"] [--icount] [--mttcg] [--keep-initramfs]
#       [--no-harden]
#
# The host cannot load modules (see shared/reference/test-machines.md): every
# module test runs in QEMU TCG (AMD SVM) or Bochs (Intel VMX). The machine boots
# an initramfs made of busybox, scripts/vm/init.sh as /init, the modules and the
# test binaries. init.sh speaks a small line protocol on the serial console that
# scripts/vm/report.awk turns into the report; scripts/vm/complaints.awk finds
# kernel complaints in the kernel log.
#
# Output: a header line, the TAP lines prefixed with the test binary's name,
# the kernel complaints, and last exactly one line "N passed, N failed, N skipped".
# Exit status: 0 if nothing failed, 1 on any failure (a failed test, a kernel
# complaint, a timeout, a missing end marker), 2 on a usage or setup error.
# Files under --out: serial.log (the whole console), summary.tap (the report),
# vm.log (the emulator's own output), command.txt (how the machine was started).
set -euo pipefail
# The whole script is one brace group, read before it runs: editing this file
# while a run is in progress (runs take minutes) cannot derail that run.
{

root=$(cd "$(dirname "$0")/.." && pwd)
vmdir=$root/scripts/vm

usage() {
	sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit "${1:-2}"
}

die() {
	echo "vmtest: $*" >&2
	exit 2
}

vm='' kver='' target='' module='' tests='' out='' timeout='' test_timeout=''
demo=0 only='' append='' icount=0 mttcg=0 keep_initramfs=0 harden=1 case_timeout=''
while [ $# -gt 0 ]; do
	opt=$1
	val=''
	case "$opt" in
	--*=*) val=${opt#*=} opt=${opt%%=*} ;;
	--vm | --kernel | --target | --module | --tests | --out | --timeout | --test-timeout | --only | --append)
		[ $# -ge 2 ] || die "$opt needs a value"
		val=$2
		shift
		;;
	esac
	shift
	case "$opt" in
	--vm) vm=$val ;;
	--kernel) kver=$val ;;
	--target) target=$val ;;
	--module) module=$val ;;
	--tests) tests=$val ;;
	--out) out=$val ;;
	--timeout) timeout=$val ;;
	--test-timeout) test_timeout=$val ;;
	--only) only=$val ;;
	--append) append=$val ;;
	--demo) demo=1 ;;
	--icount) icount=1 ;;
	--mttcg) mttcg=1 ;;
	--keep-initramfs) keep_initramfs=1 ;;
	--no-harden) harden=0 ;;
	-h | --help) usage 0 ;;
	*) die "unknown option $opt (see --help)" ;;
	esac
done

case "$vm" in qemu-svm | bochs-vmx) ;; *) die "--vm qemu-svm|bochs-vmx is required" ;; esac
case "$kver" in 6.1 | 6.12 | debug) ;; *) die "--kernel 6.1|6.12|debug is required" ;; esac
case "$target" in dbgkvm | kvm) ;; *) die "--target dbgkvm|kvm is required" ;; esac
[ "$icount" = 0 ] || [ "$vm" = qemu-svm ] || die "--icount is a QEMU option"
[ "$mttcg" = 0 ] || [ "$vm" = qemu-svm ] || die "--mttcg is a QEMU option"
[ "$mttcg" = 0 ] || [ "$icount" = 0 ] || die "--icount needs single-threaded TCG: drop --mttcg"

# Per-test timeouts run on the guest's clock. Bochs is ~15x slower than QEMU
# TCG (about 2 minutes to boot alone) and its guest clock runs far slower than
# the wall clock when the guest is busy, so its per-test timeout is shorter.
if [ "$vm" = qemu-svm ]; then
	min_timeout=600
	# The debug kernel (KASAN, lockdep, SLUB debugging) runs everything several times slower.
	# So does each test case's own timeout (selftests/lib/tap.cpp, 30 s on QEMU).
	[ "$kver" != debug ] || { : "${test_timeout:=480}"; case_timeout=150; }
	: "${test_timeout:=120}"
else
	min_timeout=2400
	: "${test_timeout:=120}"
fi
case "$timeout$test_timeout" in *[!0-9]*) die "timeouts are whole seconds" ;; esac

abspath() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
tests=$(abspath "${tests:-$root/build/selftests/bin}")
out=$(abspath "${out:-$root/build/vmtest/$vm-$kver-$target}")
if [ "$target" = dbgkvm ]; then
	module=$(abspath "${module:-$root/build/kmod-$kver/dbgkvm.ko}")
	dev=/dev/dbgkvm
else
	dev=/dev/kvm
fi

for tool in busybox cpio gzip depmod modinfo readelf strip xz flock; do
	command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup-host.sh)"
done
if [ "$vm" = qemu-svm ]; then
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (run scripts/setup-host.sh)"
else
	for tool in bochs xorriso; do
		command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup-host.sh)"
	done
fi

# --- The test binaries -------------------------------------------------------
# Every executable file in --tests is a TAP program, except "demo", which only
# --demo runs (its output is meant for a human, not TAP), "reboot_test", which
# powers the machine off and runs only when named (scripts/reboot-check.sh), and
# "fuzz_test", which runs for minutes and has its own rings (make fuzz, make check).
[ -d "$tests" ] || die "no tests directory $tests (build the selftests, or pass --tests DIR)"
all_tests=()
while IFS= read -r f; do
	all_tests+=("${f##*/}")
done < <(find "$tests" -maxdepth 1 -type f -perm -u+x | sort)
run_tests=()
if [ "$demo" = 1 ]; then
	[ -x "$tests/demo" ] || die "--demo: no executable $tests/demo"
	run_tests=(demo)
elif [ -n "$only" ]; then
	IFS=, read -r -a run_tests <<<"$only"
	for t in "${run_tests[@]}"; do
		if [ ! -f "$tests/$t" ] || [ ! -x "$tests/$t" ]; then
			die "--only: no executable $tests/$t"
		fi
	done
else
	for t in "${all_tests[@]}"; do
		case "$t" in demo | reboot_test | fuzz_test) ;; *) run_tests+=("$t") ;; esac
	done
fi
[ ${#run_tests[@]} -gt 0 ] || die "no test binaries in $tests"
# Default whole-run timeout: at least the VM's minimum, and enough for every
# test to run into its own timeout, so that a hung test costs only itself.
if [ -z "$timeout" ]; then
	timeout=$((min_timeout + ${#run_tests[@]} * (test_timeout + 15)))
fi
# The initramfs has no C library: a dynamically linked test would fail with a
# confusing "not found" inside the machine.
for t in "${run_tests[@]}"; do
	if LC_ALL=C readelf -l "$tests/$t" 2>/dev/null | grep -q 'program interpreter'; then
		die "$tests/$t is dynamically linked: build the selftests with -static"
	fi
done

# --- The kernel and its modules ------------------------------------------------
[ "$target" = kvm ] || [ -f "$module" ] || die "module $module not found (build it first, or pass --module PATH)"
kdir=$("$root/scripts/kernel-pkg.sh" image-dir "$kver")
rel=$(ls "$kdir/root/lib/modules")
vmlinuz=$kdir/root/boot/vmlinuz-$rel
[ -f "$vmlinuz" ] || die "no $vmlinuz"
mdir=$kdir/root/lib/modules/$rel

# Debian ships no modules.dep in the image package (the postinst runs depmod):
# compute it once with a dry-run depmod, which writes nothing into the image.
cache=$root/build/vm/cache/$rel
mkdir -p "$cache/modules"
if [ ! -s "$cache/modules.dep" ]; then
	depmod -b "$kdir/root" -n "$rel" 2>/dev/null | sed -n '/^[^#].*\.ko.*:/p' >"$cache/modules.dep.tmp.$$"
	mv "$cache/modules.dep.tmp.$$" "$cache/modules.dep"
fi

# modname PATH: kernel module name of a .ko/.ko.xz file ('-' and '_' are the same).
modname() {
	local n=${1##*/}
	n=${n%%.ko*}
	echo "${n//-/_}"
}

# depchain NAME: the image's module files NAME needs, in load order, NAME last.
# modules.dep lists a module's dependencies with the ones to load first last,
# which is the order modprobe uses (it loads the list back to front).
depchain() {
	local want=$1 line path deps i
	line=$(awk -F: -v want="$want" '{ n = $1; sub(/.*\//, "", n); sub(/\.ko.*/, "", n); gsub(/-/, "_", n) } n == want { print; exit }' "$cache/modules.dep")
	[ -n "$line" ] || die "module $want is not in $rel's modules.dep"
	path=${line%%:*}
	read -r -a deps <<<"${line#*:}"
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
		echo "${deps[i]}"
	done
	echo "$path"
}

want_mods=()
if [ "$target" = kvm ]; then
	if [ "$vm" = qemu-svm ]; then want_mods=(kvm_amd); else want_mods=(kvm_intel); fi
else
	# dbgkvm may use symbols of other modules of the image (e.g. irqbypass):
	# load those first, the way modprobe would.
	moddeps=$(modinfo -F depends "$module" 2>/dev/null) || die "$module is not a kernel module"
	IFS=, read -r -a want_mods <<<"$moddeps"
	vermagic=$(modinfo -F vermagic "$module")
	[ "${vermagic%% *}" = "$rel" ] ||
		die "$module was built for ${vermagic%% *}, the $kver machine runs $rel: rebuild it"
fi
# msr.ko for both targets: hostile_test reads every CPU's MSRs through /dev/cpu/N/msr.
want_mods+=(msr)
# With dbgkvm, the reference KVM modules come along too, not loaded: coexist_test
# loads them to check that the two hypervisors share the machine cleanly.
ref_mods=()
if [ "$target" = dbgkvm ]; then
	if [ "$vm" = qemu-svm ]; then ref=kvm_amd; else ref=kvm_intel; fi
	chain=$(depchain "$ref")
	while IFS= read -r p; do ref_mods+=("$p"); done <<<"$chain"
fi
image_mods=()
for m in "${want_mods[@]}"; do
	[ -n "$m" ] || continue
	# Not in a process substitution: depchain's die must end the script.
	chain=$(depchain "$(modname "$m")")
	while IFS= read -r p; do
		case " ${image_mods[*]} " in *" $p "*) ;; *) image_mods+=("$p") ;; esac
	done <<<"$chain"
done

# busybox insmod cannot read compressed modules: keep decompressed copies.
kofile() {
	local src=$mdir/$1 dst
	dst=$cache/modules/$(modname "$1").ko
	if [ ! -s "$dst" ]; then
		case "$src" in
		*.ko) cp "$src" "$dst.tmp.$$" ;;
		*.ko.xz) xz -dc "$src" >"$dst.tmp.$$" ;;
		*.ko.zst) zstd -qdc "$src" >"$dst.tmp.$$" ;;
		*.ko.gz) gzip -dc "$src" >"$dst.tmp.$$" ;;
		*) die "unknown module format $src" ;;
		esac
		mv "$dst.tmp.$$" "$dst"
	fi
	echo "$dst"
}

# --- The initramfs -------------------------------------------------------------
mkdir -p "$out"
# Two runs with the same --out (e.g. two `make vmtest` at once) would clobber
# each other's initramfs and logs: the second one waits.
exec 9>"$out/.lock"
if ! flock -n 9; then
	echo "vmtest: waiting for another run using $out" >&2
	flock 9
fi
rm -f "$out/serial.log" "$out/summary.tap" "$out/vm.log" "$out/.stats" "$out/boot.iso" "$out/bochs.log"
stage=$out/initramfs
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,vmtest/modules,selftests}
cp "$(command -v busybox)" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 755 "$vmdir/init.sh" "$stage/init"
cp "$vmdir/complaints.awk" "$stage/vmtest/"
# The kernel opens /dev/console for /init before devtmpfs is mounted.
[ "$(id -u)" != 0 ] || mknod "$stage/dev/console" c 5 1

guest_mods=()
for p in "${image_mods[@]}"; do
	n=$(modname "$p")
	cp "$(kofile "$p")" "$stage/vmtest/modules/$n.ko"
	guest_mods+=("/vmtest/modules/$n.ko")
done
if [ "$target" = dbgkvm ]; then
	strip --strip-debug -o "$stage/vmtest/modules/dbgkvm.ko" "$module"
	guest_mods+=(/vmtest/modules/dbgkvm.ko)
fi
kvm_mods=()
mkdir -p "$stage/vmtest/kvm-modules"
for p in "${ref_mods[@]}"; do
	n=$(modname "$p")
	strip --strip-debug -o "$stage/vmtest/kvm-modules/$n.ko" "$(kofile "$p")"
	kvm_mods+=("/vmtest/kvm-modules/$n.ko")
done
# Stripped copies: the static test binaries carry debug info that would
# triple the initramfs, and Bochs reads it through BIOS calls.
for t in "${run_tests[@]}"; do
	strip -o "$stage/selftests/$t" "$tests/$t" 2>/dev/null || cp "$tests/$t" "$stage/selftests/$t"
	chmod 755 "$stage/selftests/$t"
done
# Linux's own KVM selftests for upstream_test (scripts/upstream-selftests.sh), if present.
if [ -d "$tests/upstream" ]; then
	mkdir -p "$stage/selftests/upstream"
	cp "$tests/upstream/LIST" "$stage/selftests/upstream/"
	while read -r u; do
		strip -o "$stage/selftests/upstream/$u" "$tests/upstream/$u"
		chmod 755 "$stage/selftests/upstream/$u"
	done <"$tests/upstream/LIST"
fi
cat >"$stage/vmtest/config" <<EOF
VT_VM='$vm'
VT_TARGET='$target'
VT_DEV='$dev'
VT_MODULES='${guest_mods[*]}'
VT_KVM_MODULES='${kvm_mods[*]}'
VT_TESTS='${run_tests[*]}'
VT_TEST_TIMEOUT='$test_timeout'
VT_CASE_TIMEOUT='$case_timeout'
VT_DEMO='$demo'
EOF
(cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) | gzip -6 >"$out/initrd.img"
[ "$keep_initramfs" = 1 ] || rm -rf "$stage"

# --- The machine ---------------------------------------------------------------
# console=ttyS0,115200: without a speed the console runs at 9600 baud, which
# Bochs emulates faithfully (slowly). panic=-1 plus -no-reboot (QEMU) turns a
# panic into the machine stopping; the missing end marker reports it.
#
# Hardening that costs nothing to build (issue "bug-finding rings"): SLUB's red zones,
# poisoning and free-pointer checks on every cache (slub_debug), freed memory zeroed
# (init_on_free) and freed pages poisoned (page_poison), so a use-after-free reads
# garbage or trips a check instead of stale data; KFENCE sampling where the kernel has
# it (Debian's 6.12 builds it with sampling off; 6.1 has no KFENCE; the debug kernel
# samples by default). --no-harden for the benchmarks (scripts/bench.sh).
harden_args=
if [ "$harden" = 1 ]; then
	harden_args=" slub_debug init_on_free=1 page_poison=1"
	[ "$kver" != 6.12 ] || harden_args="$harden_args kfence.sample_interval=100"
fi
cmdline="console=ttyS0,115200 preempt=full panic=-1$harden_args${append:+ $append}"
serial=$out/serial.log
: >"$serial"
if [ "$vm" = qemu-svm ]; then
	# One host thread for both CPUs (thread=single): QEMU 10's multi-threaded TCG
	# corrupts nested SVM state when a vCPU thread moves to the other CPU (kmod/svm/README.md
	# "QEMU's multi-threaded TCG"; Debian's kvm_amd fails the same way). --mttcg brings it
	# back, to reproduce that bug.
	tcg=tcg,thread=single
	[ "$mttcg" = 0 ] || tcg=tcg,thread=multi
	# The debug kernel's KASAN shadow (1/8 of memory), kmemleak's pool and lockdep's
	# tables take room of their own.
	mem=1024
	[ "$kver" != debug ] || mem=2048
	vmcmd=(qemu-system-x86_64 -accel "$tcg" -cpu max -smp 2 -m $mem -nographic -no-reboot
		-nic none -monitor none -serial "file:$serial"
		-kernel "$vmlinuz" -initrd "$out/initrd.img" -append "$cmdline")
	[ "$icount" = 0 ] || vmcmd+=(-icount shift=0)
	# QEMU_EXTRA_ARGS (environment, optional): more QEMU options, split on blanks
	# (e.g. a -plugin for scripts/exit-profile.sh).
	if [ -n "${QEMU_EXTRA_ARGS:-}" ]; then
		read -r -a extra_args <<<"$QEMU_EXTRA_ARGS"
		vmcmd+=("${extra_args[@]}")
	fi
else
	# Bochs cannot load a bzImage: boot an ISO through isolinux.
	iso=$out/iso
	rm -rf "$iso"
	mkdir -p "$iso/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$iso/isolinux/"
	cp "$vmlinuz" "$iso/vmlinuz"
	cp "$out/initrd.img" "$iso/initrd.img"
	cat >"$iso/isolinux/isolinux.cfg" <<EOF
DEFAULT vmtest
PROMPT 0
TIMEOUT 0
LABEL vmtest
  KERNEL /vmlinuz
  APPEND initrd=/initrd.img $cmdline
EOF
	xorriso -as mkisofs -quiet -o "$out/boot.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
		-no-emul-boot -boot-load-size 4 -boot-info-table "$iso" 2>>"$out/vm.log"
	rm -rf "$iso"
	# Headless: this Bochs has only the x and rfb display plugins; rfb with
	# timeout=0 does not wait for a VNC client (it listens on 5900..5949).
	# clock: sync=none makes guest time follow the instruction count.
	# The internal debugger stops before the first instruction: -rc runs "c".
	cat >"$out/bochsrc" <<EOF
megs: 1024
cpu: model=corei7_skylake_x, count=2, quantum=16, ips=${VMTEST_BOCHS_IPS:-4000000}
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path="$out/boot.iso", status=inserted
boot: cdrom
display_library: rfb, options="timeout=0"
speaker: enabled=0
sound: driver=dummy
mouse: enabled=0
com1: enabled=1, mode=file, dev="$serial"
clock: sync=none, time0=utc
log: "$out/bochs.log"
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
EOF
	echo c >"$out/bochs.rc"
	vmcmd=(bochs -q -f "$out/bochsrc" -rc "$out/bochs.rc")
fi
printf '%q ' "${vmcmd[@]}" >"$out/command.txt"
echo >>"$out/command.txt"

header="==== vmtest: vm=$vm kernel=$kver ($rel) target=$target$([ "$demo" = 0 ] || echo ' demo') ===="
echo "$header" | tee "$out/summary.tap"

vmpid='' parserpid=''
# shellcheck disable=SC2317 # called through the trap
cleanup() {
	[ -z "$vmpid" ] || kill "$vmpid" 2>/dev/null || true
	[ -z "$parserpid" ] || kill "$parserpid" 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo "vmtest: interrupted" >&2; exit 130' INT TERM

t0=$SECONDS
"${vmcmd[@]}" </dev/null >>"$out/vm.log" 2>&1 9>&- &
vmpid=$!

# The report follows the serial log as it grows (Bochs runs take minutes).
# tail --pid stops once the machine is gone, after reading the rest.
tail -s 0.5 -n +1 -F --pid="$vmpid" "$serial" 2>/dev/null |
	busybox awk -v demo="$demo" -v stats="$out/.stats" -f "$vmdir/report.awk" |
	tee -a "$out/summary.tap" &
parserpid=$!

# Watch the machine: stop it a little after the end marker (in case poweroff
# does not work), or at the timeout.
timed_out=0 end_at='' boot_s='?'
while kill -0 "$vmpid" 2>/dev/null; do
	if [ "$boot_s" = '?' ] && grep -q '^vmtest: boot done' "$serial"; then
		boot_s=$((SECONDS - t0))
	fi
	if [ -z "$end_at" ] && grep -q '^vmtest: ===== end of run =====' "$serial"; then
		end_at=$SECONDS
	fi
	if [ -n "$end_at" ] && [ $((SECONDS - end_at)) -ge 20 ]; then
		kill "$vmpid" 2>/dev/null || true
		break
	fi
	if [ $((SECONDS - t0)) -ge "$timeout" ]; then
		timed_out=1
		kill "$vmpid" 2>/dev/null || true
		break
	fi
	sleep 0.5
done
for _ in 1 2 3 4 5 6 7 8 9 10; do
	kill -0 "$vmpid" 2>/dev/null || break
	sleep 0.5
done
kill -KILL "$vmpid" 2>/dev/null || true
wait "$vmpid" 2>/dev/null || true
vmpid=''
wait "$parserpid" || true
parserpid=''
run_s=$((SECONDS - t0))

read -r passed failed skipped complaints endseen booted <"$out/.stats" ||
	{ passed=0 failed=0 skipped=0 complaints=0 endseen=0 booted=0; }
rm -f "$out/.stats"
failed=$((failed + complaints))
tail_lines=()
if [ "$timed_out" = 1 ]; then
	tail_lines+=("not ok - vmtest: the machine was still running after $timeout s: killed")
	failed=$((failed + 1))
fi
if [ "$endseen" = 0 ]; then
	tail_lines+=("not ok - vmtest: no end marker: the machine crashed, hung or stopped early")
	failed=$((failed + 1))
	# Bochs stops on its own panics (unimplemented or inconsistent state):
	# those say more than the guest's console.
	if [ -f "$out/bochs.log" ]; then
		while IFS= read -r line; do
			tail_lines+=("# bochs: $line")
		done < <(grep -E '^[0-9]+p\[' "$out/bochs.log" | tail -n 5)
	fi
	if [ "$booted" = 0 ]; then
		tail_lines+=("# the machine never reached /init; last lines of $serial:")
		while IFS= read -r line; do
			tail_lines+=("#   $line")
		done < <(tail -n 15 "$serial" | tr -d '\r')
		tail_lines+=("# last lines of $out/vm.log (the emulator's own output):")
		while IFS= read -r line; do
			tail_lines+=("#   $line")
		done < <(grep -v '^ALSA lib' "$out/vm.log" | tail -n 5)
	else
		# The guest could not check its own kernel log: do it here on what
		# reached the console (warnings and up) after boot.
		while IFS= read -r line; do
			tail_lines+=("complaint: $line")
			failed=$((failed + 1))
		done < <(awk '/^vmtest: boot done/ { b = 1; next } b' "$serial" | busybox awk -f "$vmdir/complaints.awk")
	fi
fi
tail_lines+=("# boot ${boot_s} s, whole run ${run_s} s (wall clock); console log: $serial")
tail_lines+=("$passed passed, $failed failed, $skipped skipped")
printf '%s\n' "${tail_lines[@]}" | tee -a "$out/summary.tap"
[ "$failed" = 0 ]
exit
}
