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
