// SPDX-License-Identifier: GPL-2.0
// The MSRs a vCPU keeps in the core, because neither the VMCB nor the VMCS holds them:
// IA32_APIC_BASE, IA32_TSC_AUX, IA32_MISC_ENABLE, IA32_BIOS_SIGN_ID (microcode revision),
// the MTRRs, IA32_TSC_DEADLINE and the machine-check globals; with KVM's rules for a
// guest's RDMSR/WRMSR and for user space's KVM_GET_MSRS/KVM_SET_MSRS ("host": KVM's
// host_initiated). Pure: the host unit tests run it.
#pragma once
#include "core/cpuid_table.hpp"
#include "core/msr_rules.hpp"

namespace dbgkvm::msr
{

// struct kvm_msrs and struct kvm_msr_list without their flexible arrays, and the ioctl
// numbers built from them (6.1's uapi gets the size wrong in C++: core/cpuid_table.hpp).
struct MsrsHeader {
	u32 nmsrs;
	u32 pad;
};
struct MsrListHeader {
	u32 nmsrs;
};
static_assert(sizeof(kvm_msr_entry) == 16);
inline constexpr unsigned int IOCTL_GET_MSR_INDEX_LIST = _IOWR(KVMIO, 0x02, MsrListHeader);
inline constexpr unsigned int IOCTL_GET_MSR_FEATURE_INDEX_LIST = _IOWR(KVMIO, 0x0a, MsrListHeader);
inline constexpr unsigned int IOCTL_GET_MSRS = _IOWR(KVMIO, 0x88, MsrsHeader);
inline constexpr unsigned int IOCTL_SET_MSRS = _IOW(KVMIO, 0x89, MsrsHeader);
static_assert(IOCTL_GET_MSR_INDEX_LIST == 0xc004ae02 &&
	      IOCTL_GET_MSR_FEATURE_INDEX_LIST == 0xc004ae0a && IOCTL_GET_MSRS == 0xc008ae88 &&
	      IOCTL_SET_MSRS == 0x4008ae89);
// KVM_GET/SET_MSRS take fewer than this many entries (KVM's MAX_IO_MSRS; -E2BIG).
inline constexpr u32 MAX_IO_MSRS = 256;

inline constexpr u32 MSR_MTRR_VAR_FIRST = 0x200, NR_VAR_MTRR = 8; // KVM_NR_VAR_MTRR
inline constexpr u32 MSR_TSC_DEADLINE = 0x6e0;
// The fixed-range MTRRs: 64K_00000, 16K_80000, 16K_A0000, 4K_C0000 ... 4K_F8000.
inline constexpr u32 MTRR_FIXED[] = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26a,
				     0x26b, 0x26c, 0x26d, 0x26e, 0x26f};
inline constexpr u32 NR_FIXED_MTRR = sizeof(MTRR_FIXED) / sizeof(MTRR_FIXED[0]);

// IA32_MISC_ENABLE (SDM Vol. 4, Table 2-2): KVM's value after reset has no PEBS and no BTS
// (bits 12, 11: read-only for the guest); EMON (bit 7) ignores the guest's writes.
inline constexpr u64 MISC_ENABLE_EMON = bit(7), MISC_ENABLE_BTS_UNAVAIL = bit(11),
		     MISC_ENABLE_PEBS_UNAVAIL = bit(12);
inline constexpr u64 MISC_ENABLE_RESET = MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL;
// KVM's microcode revision after reset (its KVM_X86_QUIRK_STUFF_FEATURE_MSRS): Intel's
// "no update loaded" (vmx_vcpu_reset), an AMD patch level (__svm_vcpu_reset).
inline constexpr u64 UCODE_REV_RESET_VMX = u64{1} << 32, UCODE_REV_RESET_SVM = 0x01000065;

// IA32_APIC_BASE as KVM's kvm_set_apic_base() takes it, from KVM_SET_SREGS or either
// RDMSR side: no reserved bit (0-7, 9, those at or above the guest's MAXPHYADDR, and 10
// unless the guest's CPUID has x2APIC) and not x2APIC enabled without the global enable.
bool apic_base_valid(u64 val, const cpuidt::Features &f);

class CoreMsrs
{
public:
	// The values after vCPU creation. host_tsc_aux: the host CPU has IA32_TSC_AUX (KVM
	// refuses the MSR otherwise, kvm_is_supported_user_return_msr). ucode_rev: the
	// backend's UCODE_REV_RESET_*.
	void reset(unsigned int vcpu_id, bool host_tsc_aux, u64 ucode_rev);
	// Done, Fault (the guest gets #GP(0); KVM_GET/SET_MSRS stop here) or NotMine.
	[[nodiscard]] MsrResult get(u32 index, bool host, const cpuidt::Features &f,
				    u64 *val) const;
	[[nodiscard]] MsrResult set(u32 index, u64 val, bool host, const cpuidt::Features &f);

	u64 apic_base() const { return apic_base_; }
	u64 tsc_aux() const { return tsc_aux_; }

private:
	bool host_tsc_aux_ = false;
	u64 apic_base_ = 0;
	u64 tsc_aux_ = 0;
	u64 misc_enable_ = 0;
	u64 ucode_rev_ = 0;
	u64 mtrr_def_type_ = 0;
	u64 mtrr_fixed_[NR_FIXED_MTRR] = {};
	u64 mtrr_var_[2 * NR_VAR_MTRR] = {}; // base, mask, base, mask...
	u64 *mtrr(u32 index);
	const u64 *mtrr(u32 index) const { return const_cast<CoreMsrs *>(this)->mtrr(index); }
};

// KVM_GET_MSR_INDEX_LIST: the MSRs a VMM saves and restores for migration, as KVM lists
// them (its msrs_to_save, then its emulated_msrs), of those dbgkvm has; EFER, APIC_BASE and
// the segment bases travel in kvm_sregs, the MTRRs by the VMM's own list (KVM lists
// neither). Writes at most `max` indices and returns how many there are.
u32 index_list(u32 *out, u32 max, bool host_tsc_aux);
// KVM_GET_MSR_FEATURE_INDEX_LIST: the MSRs that describe the host (system fd KVM_GET_MSRS).
u32 feature_index_list(u32 *out, u32 max);

} // namespace dbgkvm::msr
