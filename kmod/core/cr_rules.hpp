// SPDX-License-Identifier: GPL-2.0
// Which CR4 values a guest may hold, for KVM_SET_SREGS and for the guest's own MOV to
// CR4 (KVM's kvm_is_valid_cr4 and kvm_set_cr4, with dbgkvm's feature set). Pure: the
// host unit tests include it.
//
// A bit the guest's CPUID does not offer raises #GP (SDM Vol. 3, 2.5: setting a reserved
// CR4 bit), as in KVM. That rule is also what keeps host state out of the guest's reach:
// CR4.PKE would let WRPKRU change the VMM thread's PKRU (dbgkvm does not switch PKRU),
// CR4.OSXSAVE would expose XCR0, CR4.VMXE/SMXE nested virtualization and SMX.
#pragma once
#include "core/cpuid_table.hpp"
#include "rt/x86_defs.hpp"

namespace dbgkvm::cr
{

// VME, PVI, TSD, DE, PSE, PAE, MCE, PGE, PCE, OSFXSR, OSXMMEXCPT (bits 0-10), FSGSBASE,
// SMEP, SMAP: what guest_cpuid offers. Not PCIDE, OSXSAVE, UMIP, LA57, VMXE, SMXE, PKE,
// CET, PKS (their CPUID bits are hidden).
inline constexpr u64 CR4_GUEST_ALLOWED = 0x7ff | x86::CR4_FSGSBASE | x86::CR4_SMEP | x86::CR4_SMAP;

// The CR4 bits one vCPU may not set: those dbgkvm never offers, and those its CPUID table
// does not (KVM's __cr4_reserved_bits(guest_cpuid_has), which reserves FSGSBASE, SMEP and
// SMAP without their 7.0 EBX bits). Before KVM_SET_CPUID2 the table is dbgkvm's model.
constexpr u64 cr4_reserved(const cpuidt::Features &f)
{
	u64 r = ~CR4_GUEST_ALLOWED;
	if (!f.fsgsbase)
		r |= x86::CR4_FSGSBASE;
	if (!f.smep)
		r |= x86::CR4_SMEP;
	if (!f.smap)
		r |= x86::CR4_SMAP;
	return r;
}

// A guest's MOV to CR4 (SDM Vol. 3, 2.5 and 4.1.1; MOV to/from CR in Vol. 2), and
// KVM_SET_SREGS's CR4: a reserved bit (cr4_reserved), or PAE clear in IA-32e mode, is
// #GP(0) for the guest and -EINVAL for user space.
constexpr bool cr4_write_valid(u64 cr4, u64 efer, u64 reserved)
{
	if (cr4 & reserved)
		return false;
	if ((efer & x86::EFER_LMA) && !(cr4 & x86::CR4_PAE))
		return false;
	return true;
}

// The CR4 bits whose change flushes the guest's TLB (SDM Vol. 3, 4.10.4.1: PGE, PAE,
// PSE, SMEP; SMAP changes no translation but KVM flushes for it too).
inline constexpr u64 CR4_TLB_BITS = x86::CR4_PGE | x86::CR4_PAE | x86::CR4_PSE | x86::CR4_SMEP;

} // namespace dbgkvm::cr
