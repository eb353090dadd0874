// SPDX-License-Identifier: GPL-2.0
// x86 architectural constants: register numbers, exception vectors, RFLAGS/CR0/CR4/EFER
// bits and MSR numbers (SDM Vol. 3 and Vol. 4, APM Vol. 2). Constants only, no instructions, so the
// pure code (kmod/emulate, kmod/debugreg) and the host unit tests can include it; the
// instructions are in rt/x86.hpp (module only).
#pragma once
#include "rt/types.hpp"

namespace dbgkvm::x86
{

// Register numbers: the general-purpose registers in encoding order (SDM Vol. 2,
// Table 2-2), then RIP and RFLAGS. The one numbering for the decoder's register file
// (emulate) and the backends' reg()/set_reg() (core/arch.hpp).
enum Reg : unsigned {
	RAX,
	RCX,
	RDX,
	RBX,
	RSP,
	RBP,
	RSI,
	RDI,
	R8,
	R9,
	R10,
	R11,
	R12,
	R13,
	R14,
	R15,
	RIP,
	RFLAGS,
	NR_REGS
};

// Exception vectors (SDM Vol. 3, Table 6-1).
inline constexpr u8 VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_UD = 6, VEC_SS = 12,
		    VEC_GP = 13, VEC_PF = 14, VEC_AC = 17, VEC_MC = 18;

// RFLAGS (SDM Vol. 1, 3.4.3).
inline constexpr u64 RFLAGS_TF = bit(8), RFLAGS_DF = bit(10), RFLAGS_RF = bit(16),
		     RFLAGS_VM = bit(17), RFLAGS_AC = bit(18);

// CR0 and CR4 (SDM Vol. 3, 2.5).
inline constexpr u64 CR0_PE = bit(0), CR0_WP = bit(16), CR0_AM = bit(18), CR0_NW = bit(29),
		     CR0_CD = bit(30), CR0_PG = bit(31);
inline constexpr u64 CR4_DE = bit(3), CR4_PSE = bit(4), CR4_PAE = bit(5), CR4_PGE = bit(7),
		     CR4_LA57 = bit(12), CR4_FSGSBASE = bit(16), CR4_OSXSAVE = bit(18),
		     CR4_SMEP = bit(20), CR4_SMAP = bit(21);

// IA32_EFER (SDM Vol. 3, 2.2.1; SVME: APM Vol. 2, 3.1.7).
inline constexpr u64 EFER_SCE = bit(0), EFER_LME = bit(8), EFER_LMA = bit(10), EFER_NXE = bit(11),
		     EFER_SVME = bit(12);

// MSR numbers (SDM Vol. 4, chapter 2; APM Vol. 2, 15.30).
inline constexpr u32 MSR_TSC = 0x10, MSR_IA32_APICBASE = 0x1b, MSR_IA32_FEATURE_CONTROL = 0x3a,
		     MSR_IA32_UCODE_REV = 0x8b, MSR_MTRRCAP = 0xfe, MSR_SYSENTER_CS = 0x174,
		     MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176, MSR_IA32_MCG_CAP = 0x179,
		     MSR_IA32_MCG_STATUS = 0x17a, MSR_IA32_MISC_ENABLE = 0x1a0,
		     MSR_DEBUGCTL = 0x1d9, MSR_PAT = 0x277, MSR_MTRR_DEF_TYPE = 0x2ff;
inline constexpr u32 MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082,
		     MSR_CSTAR = 0xc0000083, MSR_SFMASK = 0xc0000084, MSR_FS_BASE = 0xc0000100,
		     MSR_GS_BASE = 0xc0000101, MSR_KERNEL_GS_BASE = 0xc0000102,
		     MSR_TSC_AUX = 0xc0000103;
// AMD SVM.
inline constexpr u32 MSR_VM_CR = 0xc0010114, MSR_VM_HSAVE_PA = 0xc0010117;
// Intel VMX capabilities (SDM Vol. 3, Appendix A).
inline constexpr u32 MSR_IA32_VMX_BASIC = 0x480, MSR_IA32_VMX_PINBASED_CTLS = 0x481,
		     MSR_IA32_VMX_PROCBASED_CTLS = 0x482, MSR_IA32_VMX_EXIT_CTLS = 0x483,
		     MSR_IA32_VMX_ENTRY_CTLS = 0x484, MSR_IA32_VMX_MISC = 0x485,
		     MSR_IA32_VMX_CR0_FIXED0 = 0x486, MSR_IA32_VMX_CR0_FIXED1 = 0x487,
		     MSR_IA32_VMX_CR4_FIXED0 = 0x488, MSR_IA32_VMX_CR4_FIXED1 = 0x489,
		     MSR_IA32_VMX_PROCBASED_CTLS2 = 0x48b, MSR_IA32_VMX_EPT_VPID_CAP = 0x48c,
		     MSR_IA32_VMX_TRUE_PINBASED_CTLS = 0x48d,
		     MSR_IA32_VMX_TRUE_PROCBASED_CTLS = 0x48e, MSR_IA32_VMX_TRUE_EXIT_CTLS = 0x48f,
		     MSR_IA32_VMX_TRUE_ENTRY_CTLS = 0x490;

} // namespace dbgkvm::x86
