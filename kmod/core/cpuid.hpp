// SPDX-License-Identifier: GPL-2.0
// What the guest sees of CPUID and of the MSRs no backend keeps.
#pragma once
#include "core/msr_rules.hpp"
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
// The MSRs no backend keeps. NotMine: an MSR nobody models; Fault: a value the guest may
// not write. Either way the caller injects #GP.
[[nodiscard]] MsrResult common_get_msr(u32 index, u64 *val, u64 apic_base);
[[nodiscard]] MsrResult common_set_msr(u32 index, u64 val, u64 *apic_base);
// IA32_APIC_BASE as KVM's kvm_set_apic_base() takes it, from KVM_SET_SREGS or the guest:
// no reserved bit (0-7, 9, those above the guest's MAXPHYADDR, and 10 unless the guest's
// CPUID has x2APIC) and not x2APIC enabled without the xAPIC enable bit.
[[nodiscard]] bool apic_base_valid(u64 val);
} // namespace dbgkvm
