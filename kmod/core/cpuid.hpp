// SPDX-License-Identifier: GPL-2.0
// What the guest sees of CPUID before user space sets a table.
#pragma once
#include "core/cpuid_table.hpp"
#include "rt/types.hpp"

#include <linux/kvm.h>

namespace dbgkvm
{
// Reads what guest_cpuid needs of the host's CPUID; once, at module load.
void guest_cpuid_init();
// regs: EAX, EBX, ECX, EDX. cr4: the guest's, for CPUID.1:ECX.OSXSAVE.
void guest_cpuid(u32 leaf, u32 subleaf, unsigned int vcpu_id, u64 cr4, u32 regs[4]);
// KVM_GET_SUPPORTED_CPUID: the model above as a table (vCPU 0's topology, as KVM gives the
// host's), at most `max` entries written; returns the table's size (> max: -E2BIG).
u32 supported_cpuid(kvm_cpuid_entry2 *out, u32 max);
// What the MSR and CR rules need of the model above (a vCPU's before KVM_SET_CPUID2),
// read once by guest_cpuid_init.
const cpuidt::Features &model_features();
} // namespace dbgkvm
