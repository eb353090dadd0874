// SPDX-License-Identifier: GPL-2.0
// Debug-register bit definitions, named as in the Intel SDM Vol 3 §18.2 (17.2 in older
// editions) "Debug Registers", the AMD APM Vol 2 §13.1, and Linux KVM's uapi/kvm_host.h.
#pragma once

#include <cstdint>

#include "rt/x86_defs.hpp"

namespace dbgkvm::debugreg
{

inline constexpr int NR_DB_REGS = 4; // DR0-DR3

// ---- DR6 (debug status) ----------------------------------------------------------------
inline constexpr uint64_t DR_TRAP_BITS = 0xf;	     // B0-B3
inline constexpr uint64_t DR6_BUS_LOCK = 1ull << 11; // active low; BLD (SDM §18.2.3)
inline constexpr uint64_t DR6_BD = 1ull << 13;	     // debug-register access detected (DR7.GD)
inline constexpr uint64_t DR6_BS = 1ull << 14;	     // single step
inline constexpr uint64_t DR6_BT = 1ull << 15;	     // task switch
inline constexpr uint64_t DR6_RTM = 1ull << 16;	     // active low; #DB inside an RTM region
// Fixed-1 and active-low bits together: the reset value of DR6, and the XOR mask between
// the active-high "pending debug exceptions" form (VMX exit qualification, our #DB payload)
// and DR6 itself.
inline constexpr uint64_t DR6_ACTIVE_LOW = 0xffff0ff0;
// Bits a guest write can change (B0-3, BLD, BD, BS, BT, RTM).
inline constexpr uint64_t DR6_VOLATILE = 0x0001e80f;
inline constexpr uint64_t DR6_FIXED_1 = DR6_ACTIVE_LOW & ~DR6_VOLATILE; // 0xfffe07f0
// Bit 12 is "enabled breakpoint" in the VMX pending-debug-exceptions field but reserved
// (must read 0) in DR6, so it never survives a payload merge.
inline constexpr uint64_t DR6_PENDING_DBG_BP = 1ull << 12;

// ---- DR7 (debug control) ---------------------------------------------------------------
inline constexpr uint64_t DR7_BP_EN_MASK = 0xff; // L0 G0 ... L3 G3
inline constexpr uint64_t DR7_GE = 1ull << 9;
inline constexpr uint64_t DR7_FIXED_1 = 0x400; // bit 10 reads as 1
inline constexpr uint64_t DR7_GD = 1ull << 13; // general detect
inline constexpr uint64_t DR7_VOLATILE = 0xffff2bff;
inline constexpr uint64_t DR7_RESET = DR7_FIXED_1;

// DR7 R/Wn field values (SDM §18.2.4).
inline constexpr unsigned DR7_RW_EXECUTE = 0;
inline constexpr unsigned DR7_RW_WRITE = 1;
inline constexpr unsigned DR7_RW_IO = 2; // only with CR4.DE = 1
inline constexpr unsigned DR7_RW_ACCESS = 3;
// DR7 LENn field values.
inline constexpr unsigned DR7_LEN_1 = 0;
inline constexpr unsigned DR7_LEN_2 = 1;
inline constexpr unsigned DR7_LEN_8 = 2;
inline constexpr unsigned DR7_LEN_4 = 3;

constexpr uint64_t dr7_local_enable(int n)
{
	return 1ull << (2 * n);
}
constexpr uint64_t dr7_global_enable(int n)
{
	return 2ull << (2 * n);
}
constexpr bool dr7_enabled(uint64_t dr7, int n)
{
	return ((dr7 >> (2 * n)) & 3) != 0;
}
constexpr unsigned dr7_rw(uint64_t dr7, int n)
{
	return static_cast<unsigned>((dr7 >> (16 + 4 * n)) & 3);
}
constexpr unsigned dr7_len(uint64_t dr7, int n)
{
	return static_cast<unsigned>((dr7 >> (18 + 4 * n)) & 3);
}
// The RW and LEN fields of breakpoint n, placed in DR7.
constexpr uint64_t dr7_rw_len(int n, unsigned rw, unsigned len)
{
	return static_cast<uint64_t>((rw & 3) | ((len & 3) << 2)) << (16 + 4 * n);
}

// ---- KVM_SET_GUEST_DEBUG control flags (uapi) -----------------------------------------
inline constexpr uint32_t GUESTDBG_ENABLE = 0x00000001;
inline constexpr uint32_t GUESTDBG_SINGLESTEP = 0x00000002;
inline constexpr uint32_t GUESTDBG_USE_SW_BP = 0x00010000;
inline constexpr uint32_t GUESTDBG_USE_HW_BP = 0x00020000;
inline constexpr uint32_t GUESTDBG_INJECT_DB = 0x00040000;
inline constexpr uint32_t GUESTDBG_INJECT_BP = 0x00080000;
inline constexpr uint32_t GUESTDBG_BLOCKIRQ = 0x00100000;
inline constexpr uint32_t GUESTDBG_VALID_MASK = 0x001f0003;

// ---- switch_db_regs --------------------------------------------------------------------
inline constexpr uint32_t KVM_DEBUGREG_BP_ENABLED = 1u << 0; // effective DR7 arms a bp
inline constexpr uint32_t KVM_DEBUGREG_WONT_EXIT = 1u << 1;  // guest owns DRs, no intercepts
inline constexpr uint32_t KVM_DEBUGREG_RELOAD = 1u << 2;     // hardware may not hold eff_db

// ---- Misc ------------------------------------------------------------------------------
// Exception vectors and RFLAGS bits: rt/x86_defs.hpp.
using x86::RFLAGS_RF;
using x86::RFLAGS_TF;
using x86::VEC_BP;
using x86::VEC_DB;

// errno values returned (negated) by the ioctl helpers.
inline constexpr int DR_EINVAL = 22;
inline constexpr int DR_EBUSY = 16;

} // namespace dbgkvm::debugreg
