// SPDX-License-Identifier: GPL-2.0
// The MSR numbers and value rules both backends share (SDM Vol. 4, Vol. 3 §12.12.2).
#pragma once
#include "rt/types.hpp"

namespace dbgkvm::msr
{

inline constexpr u32 TSC = 0x10, SYSENTER_CS = 0x174, SYSENTER_ESP = 0x175, SYSENTER_EIP = 0x176,
		     DEBUGCTL = 0x1d9, PAT = 0x277, EFER = 0xc0000080, STAR = 0xc0000081,
		     LSTAR = 0xc0000082, CSTAR = 0xc0000083, SFMASK = 0xc0000084,
		     FS_BASE = 0xc0000100, GS_BASE = 0xc0000101, KERNEL_GS_BASE = 0xc0000102;
inline constexpr u64 EFER_SCE = bit(0), EFER_LME = bit(8), EFER_LMA = bit(10), EFER_NXE = bit(11),
		     EFER_SVME = bit(12);

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

inline u64 rdtsc()
{
	u32 lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (u64{hi} << 32) | lo;
}

} // namespace dbgkvm::msr
