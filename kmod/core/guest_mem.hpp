// SPDX-License-Identifier: GPL-2.0
// Reading guest code: linear address -> guest-physical (the guest's own paging) -> bytes.
#pragma once
#include "core/arch.hpp"

namespace dbgkvm
{
class Vm;

// Fetch up to 15 bytes of the instruction at CS:RIP. *n gets how many bytes could be
// read (fewer at the end of guest memory); *linear the instruction's linear address.
Errno fetch_insn(Vm &vm, const InsnContext &c, u64 rip, u8 buf[15], unsigned *n, u64 *linear);
} // namespace dbgkvm
