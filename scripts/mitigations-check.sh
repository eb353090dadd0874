#!/bin/bash
# mitigations-check.sh KERNEL (6.1 | 6.12)
#
# No emulator models speculative execution, so the speculative-execution mitigations
# at VM entry and exit are checked against the target kernel's own KVM instead: the
# script takes KVM's sources from Debian's linux-source package of the same version as
# the headers dbgkvm builds against (scripts/linux-source.sh: downloaded once, cached outside the repo in
# $DBGKVM_KERNEL_CACHE, default /var/cache/dbgkvm-kernel), collects every mitigation token
# KVM's entry/exit uses, and requires each to be classified below:
#   same   dbgkvm uses the same macro/feature/symbol, in the same backend's code;
#   equiv  dbgkvm does the same thing with another token (which must be present);
#   na     does not apply to dbgkvm, with the reason;
#   infra  not a mitigation (assembler plumbing, words in comments).
# A token KVM uses that the table does not know fails the check: a new kernel that adds
# a mitigation is noticed. Prints "ok"/"not ok" lines; exits non-zero on any failure.
set -uo pipefail
ver=${1:?usage: mitigations-check.sh 6.1|6.12}
root=$(cd "$(dirname "$0")/.." && pwd)

# Debian's linux-source-$ver of the installed headers' version, shared with the debug
# kernel and the upstream selftests (scripts/linux-source.sh).
src=$("$root/scripts/linux-source.sh" "$ver") || {
	echo "not ok - cannot fetch linux-source-$ver (make setup installs the headers it follows)"
	exit 1
}
pkgver=$(basename "$(dirname "$src")")
pkgver=${pkgver#src-}

# token class where what
#   where: vmx (kmod/vmx/vmenter.S), svm (kmod/svm/vmrun.S), c (kmod/, any file)
#   what:  for equiv, the token dbgkvm uses; otherwise the reason
table=$(
	cat <<'TABLE'
CLEAR_CPU_BUFFERS same vmx VERW before VMLAUNCH/VMRESUME
VM_CLEAR_CPU_BUFFERS same svm VERW before VMRUN
FILL_RETURN_BUFFER same both RSB stuffing before the first RET
X86_FEATURE_RSB_VMEXIT same both which hosts stuff the RSB
X86_FEATURE_RSB_VMEXIT_LITE same vmx eIBRS with PBRSB: one call retired
X86_FEATURE_RETPOLINE equiv svm X86_FEATURE_RSB_VMEXIT
CLEAR_BRANCH_HISTORY_VMEXIT same vmx BHI
X86_FEATURE_MSR_SPEC_CTRL same vmx the LFENCE after the SPEC_CTRL restore
x86_spec_ctrl_current same vmx the host's SPEC_CTRL, rewritten for legacy IBRS
vmx_spec_ctrl_restore_host equiv vmx X86_FEATURE_KERNEL_IBRS
UNTRAIN_RET same svm RETBleed/SRSO untraining after #VMEXIT (6.1)
UNTRAIN_RET_VM same svm RETBleed/SRSO untraining and IBPB_ON_VMEXIT after #VMEXIT (6.12)
X86_FEATURE_IBPB_ON_VMEXIT same svm SRSO IBPB after #VMEXIT (6.1 spelling)
entry_ibpb same svm SRSO IBPB after #VMEXIT (6.1 spelling)
RESTORE_GUEST_SPEC_CTRL na svm guests never own SPEC_CTRL (not in their CPUID; every MSR access is intercepted): they run with the host's value
RESTORE_GUEST_SPEC_CTRL_BODY na svm as RESTORE_GUEST_SPEC_CTRL
RESTORE_HOST_SPEC_CTRL na svm as RESTORE_GUEST_SPEC_CTRL: the guest cannot change it
RESTORE_HOST_SPEC_CTRL_BODY na svm as RESTORE_HOST_SPEC_CTRL
X86_FEATURE_V_SPEC_CTRL na svm virtual SPEC_CTRL for guests that own one
L1D_FLUSH same c the L1D flush command
vmx_l1d_flush equiv c dk_l1d_flush
vmx_l1d_flush_pages equiv c l1d_flush_pages
l1d_flush equiv c dk_l1d_flush
vmentry_l1d_flush na c KVM's flush-policy parameter: dbgkvm flushes before every entry where the CPU needs it (KVM's "always")
vmentry_l1d_flush_get na c vmentry_l1d_flush
vmentry_l1d_flush_set na c vmentry_l1d_flush
vmentry_l1d_flush_ops na c vmentry_l1d_flush
vmentry_l1d_flush_param na c vmentry_l1d_flush
vmentry_l1d_flush_parse na c vmentry_l1d_flush
vmx_l1d_flush_cond na c KVM's "cond" policy: dbgkvm always flushes
vmx_l1d_flush_mutex na c vmentry_l1d_flush
vmx_l1d_flush_state na c vmentry_l1d_flush
vmx_setup_l1d_flush equiv c dk_mitigations_init
vmx_cleanup_l1d_flush equiv c dk_mitigations_exit
err_l1d_flush infra c error label
VMENTER_L1D_FLUSH_ALWAYS na c KVM's policy states
VMENTER_L1D_FLUSH_AUTO na c KVM's policy states
VMENTER_L1D_FLUSH_COND na c KVM's policy states
VMENTER_L1D_FLUSH_NEVER equiv c L1TF_MITIGATION_OFF
VMENTER_L1D_FLUSH_NOT_REQUIRED equiv c ARCH_CAP_SKIP_VMENTRY_L1DFLUSH
VMENTER_L1D_FLUSH_EPT_DISABLED na c dbgkvm always uses EPT
VMENTER_L1D_FLUSH_NESTED_VM na c dbgkvm offers no nested VMX
indirect_branch_prediction_barrier same c IBPB when a CPU switches vCPU
X86_FEATURE_IBPB na c the IBPB CPUID bit KVM offers guests: dbgkvm offers none
X86_FEATURE_AMD_IBPB na c as X86_FEATURE_IBPB
PRED_CMD_IBPB na c guest writes to PRED_CMD: dbgkvm guests have none
X86_FEATURE_IBPB_EXIT_TO_USER same c VMSCAPE
x86_ibpb_exit_to_user same c VMSCAPE
X86_FEATURE_SRSO_BP_SPEC_REDUCE same c SRSO BpSpecReduce while VMs exist
srso_lock equiv c dk_srso_bp_spec_reduce
srso_nr_vms equiv c dk_srso_bp_spec_reduce
svm_srso_vm_init equiv c dk_srso_bp_spec_reduce
svm_srso_vm_destroy equiv c dk_srso_bp_spec_reduce
svm_srso_clear_bp_spec_reduce equiv c dk_srso_bp_spec_reduce
guest_state_enter_irqoff same c RCU/context tracking/lockdep around the switch
guest_state_exit_irqoff same c RCU/context tracking/lockdep around the switch
guest_timing_enter_irqoff same c guest time
guest_timing_exit_irqoff same c guest time
mmio_stale_data_clear na c KVM clears CPU buffers for MMIO stale data only in VMs with assigned devices: dbgkvm assigns none
x86_clear_cpu_buffers na c as mmio_stale_data_clear
X86_FEATURE_CLEAR_CPU_BUF na c KVM uses it to decide FB_CLEAR_DIS for guests that see FB_CLEAR
FB_CLEAR na c guests get no ARCH_CAPABILITIES, so never FB_CLEAR and never FB_CLEAR_DIS
FB_CLEAR_CTRL na c as FB_CLEAR
FB_CLEAR_DIS na c as FB_CLEAR
disable_fb_clear na c as FB_CLEAR
vmx_disable_fb_clear na c as FB_CLEAR
vmx_enable_fb_clear na c as FB_CLEAR
vmx_fb_clear_ctrl_available na c as FB_CLEAR
vmx_setup_fb_clear_ctrl na c as FB_CLEAR
vmx_update_fb_clear_dis na c as FB_CLEAR
ARCH_CAP_FB_CLEAR na c ARCH_CAPABILITIES bits KVM offers guests: dbgkvm offers no ARCH_CAPABILITIES
ARCH_CAP_FB_CLEAR_CTRL na c as ARCH_CAP_FB_CLEAR
ARCH_CAP_MDS_NO na c as ARCH_CAP_FB_CLEAR
ARCH_CAP_PBRSB_NO na c as ARCH_CAP_FB_CLEAR
ARCH_CAP_RRSBA na c as ARCH_CAP_FB_CLEAR
ARCH_CAP_RSBA na c as ARCH_CAP_FB_CLEAR
x86_spec_ctrl_set_guest na c AMD's virtual SSBD (VIRT_SPEC_CTRL/LS_CFG) for guests that own it: dbgkvm guests see no SSBD, the host's stays in force
x86_spec_ctrl_restore_host na c as x86_spec_ctrl_set_guest
mitigate_smt_rsb na c KVM's opt-in refusal to let guests HLT/MWAIT without exits (SMT RSB): dbgkvm has no KVM_CAP_X86_DISABLE_EXITS, HLT always exits
SMT_RSB na c mitigate_smt_rsb
SMT_RSB_MSG na c mitigate_smt_rsb
X86_BUG_SMT_RSB na c mitigate_smt_rsb
IBPB infra c a word in a comment
IBPBs infra c a word in a comment
VERW infra c a word in a comment
overwritten infra c a word in a comment
ALTERNATIVE infra both
ALTERNATIVE_2 infra both
CALL_NOSPEC infra both
ENDBR infra both
RET infra both
SYM_FUNC_START infra both
SYM_FUNC_END infra both
SYM_INNER_LABEL infra both
SYM_INNER_LABEL_ALIGN infra both
UNWIND_HINT_SAVE infra both
UNWIND_HINT_RESTORE infra both
_ASM_EXTABLE infra both
_ASM_MOV infra both
__ASM_SIZE infra both
FRAME_BEGIN infra both
FRAME_END infra both
VMX_DO_EVENT_IRQOFF infra vmx delivers an NMI/IRQ taken in the guest through the host IDT
TABLE
)

asm_tokens() { # KVM's asm: macro invocations at line start, features, symbols
	sed -e 's@/\*.*\*/@@g' "$1" | grep -v '^\s*\*' |
		grep -oE '^\s*[A-Z_][A-Z0-9_]+\b|X86_FEATURE_\w+|\bx86_\w+|\bentry_\w+' |
		sed 's/^\s*//' | sort -u
}
c_tokens() {
	grep -ohiE '\b\w*(ibpb|l1d_flush|clear_cpu_buf|verw|fb_clear|srso|retbleed|rsb|bhb|mds_|mmio_stale|vmscape|guest_state_(enter|exit)|guest_timing|spec_ctrl_(set_guest|restore_host))\w*\b|\bindirect_branch_prediction_barrier\b' "$@" |
		sort -u
}
code() { # the files without their comments (a token in a comment does not count)
	sed -e 's@/\*.*\*/@@g' -e 's@//.*@@' "$@" | grep -vE '^\s*(/\*|\*)'
}
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
code "$root/kmod/vmx/vmenter.S" >"$tmp/vmx"
code "$root/kmod/svm/vmrun.S" >"$tmp/svm"
cat "$tmp/vmx" "$tmp/svm" >"$tmp/both"
find "$root/kmod" \( -name '*.c' -o -name '*.cpp' -o -name '*.hpp' -o -name '*.S' \) -exec cat {} + |
	code >"$tmp/c"
ours() { grep -qw -- "$2" "$tmp/$1"; } # where token: is it in dbgkvm's code?

nfail=0 nok=0
judge() { # vendor token
	local vendor=$1 tok=$2 line cls where what
	line=$(awk -v t="$tok" '$1 == t' <<<"$table" | head -n1)
	if [ -z "$line" ]; then
		echo "not ok - $ver: KVM ($vendor) uses $tok, which scripts/mitigations-check.sh does not know: classify it (a new mitigation?)"
		nfail=$((nfail + 1))
		return
	fi
	read -r _ cls where what <<<"$line"
	local w=$where
	[ "$where" = both ] && [ "$vendor" != c ] && w=$vendor
	case "$cls" in
	same)
		if ours "$w" "$tok"; then nok=$((nok + 1)); else
			echo "not ok - $ver: KVM ($vendor) uses $tok ($what); dbgkvm does not"
			nfail=$((nfail + 1))
		fi
		;;
	equiv)
		local eq=${what%% *}
		if ours "$w" "$eq"; then nok=$((nok + 1)); else
			echo "not ok - $ver: KVM ($vendor) uses $tok; dbgkvm's equivalent $eq is missing"
			nfail=$((nfail + 1))
		fi
		;;
	na | infra) nok=$((nok + 1)) ;;
	esac
}

for t in $(asm_tokens "$src/arch/x86/kvm/vmx/vmenter.S"); do judge vmx "$t"; done
for t in $(asm_tokens "$src/arch/x86/kvm/svm/vmenter.S"); do judge svm "$t"; done
for t in $(c_tokens "$src"/arch/x86/kvm/{vmx/vmx.c,svm/svm.c,x86.c}); do judge c "$t"; done

if [ "$nfail" = 0 ]; then
	echo "ok - $ver ($pkgver): all $nok mitigation tokens of KVM's entry/exit are matched or classified"
else
	echo "# $ver ($pkgver): $nok matched or classified, $nfail not"
	exit 1
fi
