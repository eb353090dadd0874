// SPDX-License-Identifier: GPL-2.0
// What the guest sees of CPUID and of the MSRs no backend keeps.
#pragma once
#include "rt/types.hpp"

namespace dbgkvm
{
// regs: EAX, EBX, ECX, EDX. cr4: the guest's, for CPUID.1:ECX.OSXSAVE.
void guest_cpuid(u32 leaf, u32 subleaf, unsigned int vcpu_id, u64 cr4, u32 regs[4]);
// 0, or -EINVAL for an MSR the guest cannot access (the caller injects #GP).
Errno common_get_msr(u32 index, u64 *val, u64 apic_base);
Errno common_set_msr(u32 index, u64 val, u64 *apic_base);
} // namespace dbgkvm
