// SPDX-License-Identifier: GPL-2.0
// Whose #AC is it? An alignment-check exception is the guest's own only when the guest
// enabled alignment checking: CPL 3 with CR0.AM and RFLAGS.AC set (SDM Vol. 3, 6.15
// "Interrupt 17—Alignment Check Exception"). On a host with split-lock detection
// (MSR_TEST_CTRL.SPLIT_LOCK_DETECT, SDM Vol. 1, 8.1.2.3 / Vol. 4), a locked access that
// splits a cache line raises #AC at any CPL whatever AM and AC say; in a guest that is
// the host's detection, and the guest, which never enabled it (it is not offered in its
// CPUID), cannot handle it. KVM's vmx_guest_inject_ac / handle_guest_split_lock.
#pragma once
#include "rt/types.hpp"
#include "rt/x86_defs.hpp"

namespace dbgkvm::exc
{

constexpr bool ac_is_guests(bool host_split_lock_detect, unsigned cpl, u64 cr0, u64 rflags)
{
	if (!host_split_lock_detect)
		return true; // every #AC is an alignment check
	return cpl == 3 && (cr0 & x86::CR0_AM) && (rflags & x86::RFLAGS_AC);
}

} // namespace dbgkvm::exc
