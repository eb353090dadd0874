// SPDX-License-Identifier: GPL-2.0
// KVM's rules for the MSRs the core keeps (arch/x86/kvm/x86.c kvm_set_msr_common and
// kvm_get_msr_common, mtrr.c, lapic.c kvm_set_apic_base).
#include "core/core_msrs.hpp"

namespace dbgkvm::msr
{

using namespace x86;

namespace
{
constexpr u64 APIC_BASE_BSP = bit(8), APIC_BASE_EXTD = bit(10), APIC_BASE_EN = bit(11);
constexpr u64 APIC_DEFAULT_BASE = 0xfee00000;
// IA32_MTRRCAP: 8 variable ranges, fixed ranges (bit 8), write-combining (bit 10), no SMRR.
constexpr u64 MTRRCAP = 0x500 | NR_VAR_MTRR;

// An MTRR memory type: UC, WC, WT, WP or WB (SDM Vol. 3, 12.11.2; KVM's valid_mtrr_type).
constexpr bool mtrr_type_valid(u64 t)
{
	return t < 8 && ((1u << t) & 0x73);
}

// KVM's kvm_mtrr_valid (SDM Vol. 3, 12.11.2.1-3): IA32_MTRR_DEF_TYPE has only the type,
// FE (bit 10) and E (bit 11); each byte of a fixed-range MTRR is a type; a variable range's
// base has a type and no bits 8-11 or at/above MAXPHYADDR, its mask no bits 0-10 or
// at/above MAXPHYADDR.
bool mtrr_valid(u32 index, u64 v, const cpuidt::Features &f)
{
	if (index == MSR_MTRR_DEF_TYPE)
		return !(v & ~u64{0xcff}) && mtrr_type_valid(v & 0xff);
	if (index >= MSR_MTRR_VAR_FIRST && index < MSR_MTRR_VAR_FIRST + 2 * NR_VAR_MTRR) {
		if (index & 1)
			return !(v & (f.above_maxphyaddr() | 0x7ff));
		return mtrr_type_valid(v & 0xff) && !(v & (f.above_maxphyaddr() | 0xf00));
	}
	for (unsigned i = 0; i < 8; i++)
		if (!mtrr_type_valid((v >> (i * 8)) & 0xff))
			return false;
	return true;
}

// KVM hands 0x200-0x2ff to its MTRR code, which refuses the numbers it does not know
// (a fault, not an unknown MSR), except PAT (a backend's) and the machine-check banks'
// IA32_MCi_CTL2 (0x280-0x29f), which dbgkvm does not model.
constexpr bool in_mtrr_block(u32 index)
{
	return index >= 0x200 && index <= 0x2ff && index != MSR_PAT &&
	       !(index >= 0x280 && index < 0x2a0);
}

// The lists KVM_GET_MSR_INDEX_LIST and KVM_GET_MSR_FEATURE_INDEX_LIST report, in KVM's
// order (msrs_to_save_base, then emulated_msrs_all).
constexpr u32 SAVED_MSRS[] = {
    MSR_SYSENTER_CS,
    MSR_SYSENTER_ESP,
    MSR_SYSENTER_EIP,
    MSR_STAR,
    MSR_CSTAR,
    MSR_KERNEL_GS_BASE,
    MSR_SFMASK,
    MSR_LSTAR,
    MSR_TSC,
    MSR_PAT,
    MSR_TSC_AUX,
    MSR_TSC_DEADLINE,
    MSR_IA32_MISC_ENABLE,
    MSR_IA32_UCODE_REV,
};
constexpr u32 FEATURE_MSRS[] = {MSR_IA32_UCODE_REV};

template <unsigned N> u32 copy_list(const u32 (&list)[N], u32 *out, u32 max, u32 skip)
{
	u32 n = 0;
	for (u32 index : list) {
		if (index == skip)
			continue;
		if (n < max)
			out[n] = index;
		n++;
	}
	return n;
}
} // namespace

bool apic_base_valid(u64 val, const cpuidt::Features &f)
{
	const u64 reserved = f.above_maxphyaddr() | 0x2ff | (f.x2apic ? 0 : APIC_BASE_EXTD);
	const bool extd_without_en = (val & APIC_BASE_EXTD) && !(val & APIC_BASE_EN);
	return !(val & reserved) && !extd_without_en;
}

void CoreMsrs::reset(unsigned int vcpu_id, bool host_tsc_aux, u64 ucode_rev)
{
	*this = CoreMsrs{};
	host_tsc_aux_ = host_tsc_aux;
	// xAPIC enabled at 0xfee00000; the BSP flag only on vCPU 0, KVM's bsp_vcpu_id
	// (kvm_vcpu_is_reset_bsp). Found by fuzz_test's compare (seed 0x2): every vCPU said BSP.
	apic_base_ = APIC_DEFAULT_BASE | APIC_BASE_EN | (vcpu_id == 0 ? APIC_BASE_BSP : 0);
	misc_enable_ = MISC_ENABLE_RESET;
	ucode_rev_ = ucode_rev;
}

u64 *CoreMsrs::mtrr(u32 index)
{
	if (index == MSR_MTRR_DEF_TYPE)
		return &mtrr_def_type_;
	if (index >= MSR_MTRR_VAR_FIRST && index < MSR_MTRR_VAR_FIRST + 2 * NR_VAR_MTRR)
		return &mtrr_var_[index - MSR_MTRR_VAR_FIRST];
	for (unsigned i = 0; i < NR_FIXED_MTRR; i++)
		if (MTRR_FIXED[i] == index)
			return &mtrr_fixed_[i];
	return nullptr;
}

MsrResult CoreMsrs::get(u32 index, bool host, const cpuidt::Features &f, u64 *val) const
{
	switch (index) {
	case MSR_IA32_APICBASE:
		*val = apic_base_;
		return MsrResult::Done;
	case MSR_TSC_AUX:
		// The guest only if its CPUID offers RDTSCP or RDPID (KVM's __kvm_get_msr).
		if (!host_tsc_aux_ || (!host && !f.rdtscp && !f.rdpid))
			return MsrResult::Fault;
		*val = tsc_aux_;
		return MsrResult::Done;
	case MSR_IA32_MISC_ENABLE:
		*val = misc_enable_;
		return MsrResult::Done;
	case MSR_IA32_UCODE_REV:
		*val = ucode_rev_;
		return MsrResult::Done;
	case MSR_MTRRCAP:
		*val = MTRRCAP;
		return MsrResult::Done;
	case MSR_TSC_DEADLINE: // no in-kernel local APIC: reads 0 (kvm_get_lapic_tscdeadline_msr)
	case MSR_IA32_MCG_CAP: // no machine-check banks
	case MSR_IA32_MCG_STATUS:
		*val = 0;
		return MsrResult::Done;
	default:
		break;
	}
	if (!in_mtrr_block(index))
		return MsrResult::NotMine;
	const u64 *m = mtrr(index);
	if (!m)
		return MsrResult::Fault;
	*val = *m;
	return MsrResult::Done;
}

MsrResult CoreMsrs::set(u32 index, u64 v, bool host, const cpuidt::Features &f)
{
	switch (index) {
	case MSR_IA32_APICBASE: {
		// A guest may not go from x2APIC back to xAPIC, nor from disabled straight to
		// x2APIC (SDM Vol. 3, 11.12.5, Figure 11-27); user space may (KVM's
		// kvm_set_apic_base).
		const u64 mode = APIC_BASE_EN | APIC_BASE_EXTD;
		const bool was_x2 = (apic_base_ & mode) == mode,
			   was_off = !(apic_base_ & APIC_BASE_EN);
		const bool x2 = (v & mode) == mode, xapic = (v & mode) == APIC_BASE_EN;
		if (!apic_base_valid(v, f) || (!host && ((was_x2 && xapic) || (was_off && x2))))
			return MsrResult::Fault;
		apic_base_ = v;
		return MsrResult::Done;
	}
	case MSR_TSC_AUX:
		if (!host_tsc_aux_ || (!host && !f.rdtscp && !f.rdpid))
			return MsrResult::Fault;
		// Bits 63:32 are reserved on Intel; AMD CPUs ignore them. KVM faults unless
		// the guest's CPUID is AMD's, and drops them then, so a migrated guest sees
		// the same.
		if (!f.amd_compatible && (v >> 32))
			return MsrResult::Fault;
		tsc_aux_ = static_cast<u32>(v);
		return MsrResult::Done;
	case MSR_IA32_MISC_ENABLE:
		if (!host) {
			if ((misc_enable_ ^ v) &
			    (MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL))
				return MsrResult::Fault;
			v = (v & ~MISC_ENABLE_EMON) | (misc_enable_ & MISC_ENABLE_EMON);
		}
		misc_enable_ = v;
		return MsrResult::Done;
	case MSR_IA32_UCODE_REV: // the guest's writes (a microcode update's trigger) are ignored
		if (host)
			ucode_rev_ = v;
		return MsrResult::Done;
	case MSR_TSC_DEADLINE: // no in-kernel local APIC: ignored (kvm_set_lapic_tscdeadline_msr)
		return MsrResult::Done;
	case MSR_MTRRCAP: // read-only
		return MsrResult::Fault;
	default:
		break;
	}
	if (!in_mtrr_block(index))
		return MsrResult::NotMine;
	u64 *m = mtrr(index);
	if (!m || !mtrr_valid(index, v, f))
		return MsrResult::Fault;
	*m = v;
	return MsrResult::Done;
}

u32 index_list(u32 *out, u32 max, bool host_tsc_aux)
{
	return copy_list(SAVED_MSRS, out, max, host_tsc_aux ? 0 : MSR_TSC_AUX);
}

u32 feature_index_list(u32 *out, u32 max)
{
	return copy_list(FEATURE_MSRS, out, max, 0);
}

} // namespace dbgkvm::msr
