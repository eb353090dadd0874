// SPDX-License-Identifier: GPL-2.0
// Reading guest code: linear address -> guest-physical (the guest's own paging) -> bytes.
#pragma once
#include "core/arch.hpp"
#include "emulate/paging.hpp"

namespace dbgkvm
{
class Vm;

// Fetch up to 15 bytes of the instruction at CS:RIP. *n gets how many bytes could be
// read (fewer at the end of guest memory); *linear the instruction's linear address.
// memo: the vCPU's last code walk (emulate::WalkMemo), reused while its entries hold.
Errno fetch_insn(Vm &vm, const InsnContext &c, u64 rip, emulate::WalkMemo &memo, u8 buf[15],
		 unsigned *n, u64 *linear);
} // namespace dbgkvm
