#!/bin/bash
# bt-vmcheck.sh: run the bpftrace scripts (tools/bpf/*.bt) for real, in the emulated
# test machine, next to drload's workload, and check what they print.
#
#   tools/bpf/bt-vmcheck.sh --kernel 6.1|6.12 --module PATH/dbgkvm.ko [--out DIR]
#       [--append "kernel args"]   (e.g. "dbgkvm.no_reload_on_load=1")
#
# Debian's bpftrace is dynamically linked against LLVM, clang and z3 (about 210 MB of
# libraries), which scripts/vmtest.sh's static-only initramfs does not take: this
# script builds its own initramfs with bpftrace, the libraries ldd lists, busybox, the
# module and drload, boots the same QEMU machine (qemu-svm, TCG, 2 CPUs; 2 GiB because
# the initramfs is large) and reads the console. Needs: bpftrace, busybox-static,
# cpio, qemu-system-x86 (scripts/setup-host.sh), and `make -C tools/bpf`.
# Exit status: 0 all checks passed, 1 a check failed, 2 usage or setup error.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tools/bpf
kver='' module='' out='' append=''
die() { echo "bt-vmcheck: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kver=$2; shift 2 ;;
	--module) module=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	-h | --help) sed -n '2,16p' "$0"; exit 0 ;;
	*) die "unknown argument $1" ;;
	esac
done
{ [ -n "$kver" ] && [ -f "$module" ]; } || die "usage: --kernel 6.1|6.12 --module PATH/dbgkvm.ko"
out=${out:-$root/build/bpf/btcheck-$kver}
drload=$root/build/bpf/bin/drload
[ -x "$drload" ] || die "no $drload: make -C tools/bpf first"
for t in bpftrace busybox cpio qemu-system-x86_64; do
	command -v "$t" >/dev/null || die "$t not found"
done

kdir=$("$root/scripts/kernel-pkg.sh" image-dir "$kver")
rel=$(ls "$kdir/root/lib/modules")
vmlinuz=$kdir/root/boot/vmlinuz-$rel
[ -f "$vmlinuz" ] || die "no $vmlinuz"
vermagic=$(modinfo -F vermagic "$module")
[ "${vermagic%% *}" = "$rel" ] || die "$module was built for ${vermagic%% *}, not $rel"

stage=$out/initramfs
rm -rf "$stage"
mkdir -p "$stage"/{bin,proc,sys,dev,tmp,bt}
cp "$(command -v busybox)" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$(command -v bpftrace)" "$stage/bin/bpftrace"
# The libraries at the paths the dynamic loader will look for them.
ldd "$(command -v bpftrace)" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }' |
	while read -r lib; do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
strip --strip-debug -o "$stage/dbgkvm.ko" "$module"
strip -o "$stage/bin/drload" "$drload"
strip -o "$stage/bin/drwatch" "$root/build/bpf/bin/drwatch"
cp "$here"/*.bt "$stage/bt/"
[ "$(id -u)" != 0 ] || mknod "$stage/dev/console" c 5 1

cat >"$stage/init" <<'INIT'
#!/bin/busybox sh
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
exec </dev/console >/dev/console 2>&1
dmesg -n 1
say() { echo "btcheck: $*"; }
say "boot done: $(uname -r)"
for w in $(cat /proc/cmdline); do
	case "$w" in dbgkvm.*=*) params="$params ${w#dbgkvm.}" ;; esac
done
# shellcheck disable=SC2086
insmod /dbgkvm.ko $params || say "FAILED insmod"
ls /sys/kernel/tracing/events/dbgkvm/ | sed 's/^/btcheck: event /'
for f in /sys/kernel/tracing/events/dbgkvm/*/format; do
	sed -n 's/^\tfield:\([^;]*\);.*/btcheck: format '"$(basename "$(dirname "$f")")"' \1/p' "$f"
done
ulimit -l unlimited
# drwatch's own binary first, next to the same workload.
say "run drwatch"
drwatch -d 8 >/tmp/dw.out 2>&1 &
pid=$!
sleep 2
drload -t 3 -n 2 >/dev/null 2>&1
wait $pid
say "exit drwatch rc=$?"
sed 's/^/btcheck: drwatch: /' /tmp/dw.out
for name in drevents.bt drreloads.bt drmissed.bt; do
	bt=/bt/$name
	say "run $name"
	bpftrace "$bt" >/tmp/bt.out 2>&1 &
	pid=$!
	# bpftrace compiles with LLVM first: slow under TCG. Wait until it attached.
	i=0
	while ! grep -q '^Attaching' /tmp/bt.out && kill -0 $pid 2>/dev/null && [ $i -lt 600 ]; do
		sleep 1
		i=$((i + 1))
	done
	sleep 2
	drload -t 3 -n 2 >/tmp/drload.out 2>&1
	say "drload rc=$?"
	sed 's/^/btcheck: drload: /' /tmp/drload.out
	sleep 1
	kill -INT $pid 2>/dev/null
	# bpftrace prints its maps and detaches at SIGINT: give it a minute under TCG,
	# then say where it is stuck and kill it.
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 60 ]; do
		sleep 1
		i=$((i + 1))
	done
	if kill -0 $pid 2>/dev/null; then
		say "$name still running 60 s after SIGINT: wchan $(cat /proc/$pid/wchan)"
		for t in /proc/$pid/task/*; do
			say "$name task ${t##*/} $(cat "$t/comm") $(cat "$t/wchan")"
			sed "s/^/btcheck: $name stack: /" "$t/stack"
		done
		kill -KILL $pid
	fi
	wait $pid
	say "exit $name rc=$?"
	# Long traces: the head and the tail are enough to judge.
	n=$(wc -l </tmp/bt.out)
	if [ "$n" -gt 400 ]; then
		head -n 200 /tmp/bt.out | sed "s/^/btcheck: $name: /"
		say "$name: ... $((n - 400)) lines ..."
		tail -n 200 /tmp/bt.out | sed "s/^/btcheck: $name: /"
	else
		sed "s/^/btcheck: $name: /" /tmp/bt.out
	fi
	say "lines $name $n"
done
say "===== end ====="
poweroff -f
INIT
chmod 755 "$stage/init"
(cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) >"$out/initrd.img"
rm -rf "$stage"

log=$out/serial.log
: >"$log"
timeout 1500 qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2048 -nographic -no-reboot \
	-nic none -monitor none -serial "file:$log" -kernel "$vmlinuz" -initrd "$out/initrd.img" \
	-append "console=ttyS0,115200 preempt=full panic=-1${append:+ $append}" >/dev/null 2>&1 || true
tr -d '\r' <"$log" >"$log.txt"

fails=0 passes=0
missed_expected=0
case " $append " in *" dbgkvm.no_reload_on_load=1 "*) missed_expected=1 ;; esac
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		echo "ok - $what"
		passes=$((passes + 1))
	else
		echo "not ok - $what"
		fails=$((fails + 1))
	fi
}
has() { grep -qE "$1" "$log.txt"; }
count() { grep -cE "$1" "$log.txt" || true; }
check "machine booted and finished" has '^btcheck: ===== end ====='
if [ $missed_expected = 1 ]; then
	check "drwatch reported missed reloads (no_reload_on_load=1)" has '^btcheck: drwatch: drwatch: [0-9]+ events, [1-9][0-9]* vCPUs, [1-9][0-9]* missed reloads'
	check "drwatch exited 1" has '^btcheck: exit drwatch rc=1'
else
	check "drwatch printed its summary, no missed reload" has '^btcheck: drwatch: drwatch: [0-9]+ events, [1-9][0-9]* vCPUs, 0 missed reloads'
	check "drwatch exited 0" has '^btcheck: exit drwatch rc=0'
fi
for bt in drevents drreloads drmissed; do
	check "$bt.bt attached and exited cleanly" has "^btcheck: exit $bt.bt rc=0"
	check "$bt.bt: no bpftrace error" bash -c "! grep -E '^btcheck: $bt.bt: .*(ERROR|error:)' '$log.txt'"
done
check "drevents.bt printed loads" has '^btcheck: drevents.bt: +[0-9]+ +[0-9]+ load '
check "drevents.bt printed puts, preemption puts among them" has '^btcheck: drevents.bt: .* put .* preempt$'
check "drevents.bt printed ioctl puts" has '^btcheck: drevents.bt: .* put .* ioctl$'
check "drreloads.bt counted loads per vCPU" has '^btcheck: drreloads.bt: @loads\[[0-9]+, [0-9]+\]: [0-9]+'
check "drmissed.bt counted guest entries per vCPU (dbgkvm_guest_entry)" has '^btcheck: drmissed.bt: @entries\[[0-9]+, [0-9]+\]: [0-9]+'
if has '^btcheck: drevents.bt: .* dr_load '; then
	check "drreloads.bt counted reloads per vCPU" has '^btcheck: drreloads.bt: @reloads\[[0-9]+, [0-9]+\]: [0-9]+'
	if [ $missed_expected = 1 ]; then
		check "drmissed.bt flagged missed reloads (no_reload_on_load=1)" has '^btcheck: drmissed.bt: MISSED RELOAD'
	else
		check "drmissed.bt flagged no missed reload" bash -c "! grep -q '^btcheck: drmissed.bt: MISSED RELOAD' '$log.txt'"
		check "drmissed.bt saw reloads after loads" has '^btcheck: drmissed.bt: @reloads_after_load\['
	fi
else
	echo "ok - dr_load checks # SKIP no dr_load events (the module's debug-register integration is not in)"
fi
echo "bt-vmcheck $kver: $passes passed, $fails failed (console: $log.txt)"
[ $fails = 0 ]
