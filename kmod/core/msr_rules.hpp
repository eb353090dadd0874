// SPDX-License-Identifier: GPL-2.0
// The MSR value rules both backends share (SDM Vol. 4, Vol. 3 §12.12.2); the MSR numbers
// and EFER bits are in rt/x86_defs.hpp.
#pragma once
#include "rt/types.hpp"
#include "rt/x86_defs.hpp"

namespace dbgkvm
{
// What a RDMSR or WRMSR handler did with an MSR: handled it, does not keep it (the next
// handler may), or refused the value or the access (the caller injects #GP(0)). Not an
// errno: an MSR that is not the backend's is no error.
enum class MsrResult : u8 {
	Done,
	NotMine,
	Fault,
};
} // namespace dbgkvm

namespace dbgkvm::msr
{

// The EFER bits a guest may set (WRMSR, KVM_SET_SREGS): no SVME, FFXSR, LMSLE, TCE...
inline constexpr u64 EFER_GUEST_BITS =
    x86::EFER_SCE | x86::EFER_LME | x86::EFER_LMA | x86::EFER_NXE;

// The EFER bits the vCPU's CPUID must offer (KVM's __kvm_valid_efer): NXE needs
// 0x80000001 EDX[20], LME and LMA need EDX[29].
constexpr bool efer_cpuid_allows(u64 v, bool nx, bool lm)
{
	return !((v & x86::EFER_NXE) && !nx) && !((v & (x86::EFER_LME | x86::EFER_LMA)) && !lm);
}

// A write to EFER through WRMSR or KVM_SET_MSRS (KVM's set_efer): bits dbgkvm never offers
// are refused from anyone (#GP, or a failed KVM_SET_MSRS entry). The guest's WRMSR is also
// refused for a bit its CPUID lacks, and for a change of LME while paging is on (SDM
// Vol. 3, 10.8.5: LMA is the processor's, and it switches only with CR0.PG). User space
// (`host`) may restore any offered bit, whatever the order of KVM_SET_CPUID2, as with KVM;
// dbgkvm is stricter in one thing: it may not flip LME under paging either (the next entry
// would fail). KVM_SET_SREGS has its own rule (core/vcpu_ioctl.cpp).
constexpr bool efer_write_valid(u64 v, u64 cur, bool paging, bool nx, bool lm, bool host)
{
	if (v & ~EFER_GUEST_BITS)
		return false;
	if (!host && !efer_cpuid_allows(v, nx, lm))
		return false;
	return !(paging && ((v ^ cur) & x86::EFER_LME));
}

// A 48-bit virtual address sign-extended to 64 bits (the guests get 4-level paging).
constexpr bool canonical(u64 v)
{
	return static_cast<u64>(static_cast<s64>(v << 16) >> 16) == v;
}

// Each PAT entry must be a defined memory type: 0, 1, 4, 5, 6 or 7 (SDM Vol. 3, 12.12.2).
constexpr bool pat_valid(u64 v)
{
	for (unsigned i = 0; i < 8; i++) {
		u8 t = (v >> (i * 8)) & 0xff;
		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}

} // namespace dbgkvm::msr
