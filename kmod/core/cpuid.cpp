// SPDX-License-Identifier: GPL-2.0
// The guest's CPUID: the host's, minus what dbgkvm does not virtualize (VMX, SVM, XSAVE
// and the features that need it, performance monitoring), plus the hypervisor bit and
// leaf 0x40000000 ("DbgKVMDbgKVM"), with a virtual topology in place of the host's:
// one package, one thread per core, each vCPU a core whose APIC ID is its vCPU id, the
// same on whichever host CPU the vCPU runs (core/cpuid_topology.hpp: leaves 1, 4, 0xB,
// 0x1A, 0x1F, 0x80000001, 0x80000008, 0x8000001D, 0x8000001E, 0x80000026, and leaves
// beyond the host's maximum). KVM_GET_SUPPORTED_CPUID reports it; once user space sets a
// table with KVM_SET_CPUID2, the guest reads that instead (core/vcpu_cpuid.cpp).
#include "core/cpuid.hpp"
#include "core/cpuid_table.hpp"
#include "core/cpuid_topology.hpp"
#include "dbgkvm_glue.h"
#include "rt/x86.hpp"

namespace dbgkvm
{

using namespace x86;

namespace
{
constexpr u32 HV_LEAF = 0x40000000;
topo::HostCpuid host;	// set once by guest_cpuid_init, before any VM exists
cpuidt::Features model; // the model's features, likewise

// The leaves Features reads, from the model, as a table.
cpuidt::Features read_model_features()
{
	constexpr u32 LEAVES[] = {0, 1, 7, 0x80000000, 0x80000001, 0x80000008};
	kvm_cpuid_entry2 e[sizeof(LEAVES) / sizeof(LEAVES[0])] = {};
	for (unsigned i = 0; i < sizeof(LEAVES) / sizeof(LEAVES[0]); i++) {
		u32 regs[4];
		guest_cpuid(LEAVES[i], 0, 0, 0, regs);
		e[i].function = LEAVES[i];
		e[i].eax = regs[0];
		e[i].ebx = regs[1];
		e[i].ecx = regs[2];
		e[i].edx = regs[3];
	}
	return cpuidt::features(e, sizeof(LEAVES) / sizeof(LEAVES[0]));
}
} // namespace

void guest_cpuid_init()
{
	u32 leaf0[4], ext0[4], ext1[4] = {};
	cpuid(0, 0, leaf0);
	cpuid(0x80000000, 0, ext0);
	if (ext0[0] >= 0x80000001 && ext0[0] < 0x80010000)
		cpuid(0x80000001, 0, ext1);
	host = topo::host_cpuid(leaf0, ext0[0], ext1[2]);
	model = read_model_features();
}

void guest_cpuid(u32 leaf, u32 subleaf, unsigned int vcpu_id, u64 cr4, u32 regs[4])
{
	if (leaf >= HV_LEAF && leaf < 0x80000000) {
		regs[0] = regs[1] = regs[2] = regs[3] = 0;
		if (leaf == HV_LEAF) {
			regs[0] = HV_LEAF;
			regs[1] = 0x4b676244; // "DbgK"
			regs[2] = 0x6244564d; // "MVDb"
			regs[3] = 0x4d564b67; // "gKVM"
		}
		return;
	}
	const topo::Source src = topo::source_leaf(leaf, host);
	if (src.zero) {
		regs[0] = regs[1] = regs[2] = regs[3] = 0;
		return;
	}
	leaf = src.leaf;
	cpuid(leaf, subleaf, regs);
	topo::apply(leaf, subleaf, vcpu_id, host, regs);
	switch (leaf) {
	case 0x1:
		// VMX, SMX, FMA, PDCM, PCID, XSAVE, OSXSAVE, AVX: not offered (their CR4 bits
		// raise #GP: core/cr_rules.hpp). x2APIC: there is no in-kernel local APIC, so
		// no x2APIC MSRs (KVM offers it only with one; IA32_APIC_BASE.EXTD is reserved).
		regs[2] &= ~(bit(5) | bit(6) | bit(12) | bit(15) | bit(17) | bit(21) | bit(26) |
			     bit(27) | bit(28));
		regs[2] |= bit(31);    // hypervisor present
		if (cr4 & CR4_OSXSAVE) // OSXSAVE mirrors CR4
			regs[2] |= bit(27);
		break;
	case 0x6:  // thermal/power: nothing
	case 0xa:  // architectural PMU: none
	case 0xd:  // XSAVE: not offered (XSETBV is refused)
	case 0xf:  // RDT monitoring, 0x10 RDT allocation, 0x12 SGX, 0x14 Processor Trace,
	case 0x10: // 0x1d/0x1e AMX, 0x24 AVX10: features leaf 7 does not offer
	case 0x12:
	case 0x14:
	case 0x1d:
	case 0x1e:
	case 0x24:
		regs[0] = regs[1] = regs[2] = regs[3] = 0;
		break;
	case 0x7:
		if (subleaf == 0) {
			// Keep FSGSBASE, BMI1, SMEP, BMI2, ERMS, SMAP, CLFLUSHOPT; drop the rest,
			// and the subleaves beyond 0 (EAX: the last subleaf).
			regs[0] = 0;
			regs[1] &=
			    u32(bit(0) | bit(3) | bit(7) | bit(8) | bit(9) | bit(20) | bit(23));
			regs[2] = 0;
			regs[3] = 0;
		} else {
			regs[0] = regs[1] = regs[2] = regs[3] = 0;
		}
		break;
	case 0x80000001:
		regs[2] &= ~(bit(2) | bit(16) | bit(11)); // SVM, FMA4, XOP (needs XSAVE)
		break;
	case 0x80000008:
		// A 48-bit linear address width: CR4.LA57 is not offered (and KVM_SET_CPUID2
		// takes only 48 or 57, kvm_check_cpuid).
		regs[0] = (regs[0] & ~0xff00u) | (48u << 8);
		break;
	case 0x8000000a: // SVM features: no nested virtualization
		regs[0] = regs[1] = regs[2] = regs[3] = 0;
		break;
	default:
		break;
	}
}

u32 supported_cpuid(kvm_cpuid_entry2 *out, u32 max)
{
	return cpuidt::enumerate(
	    [](u32 fn, u32 idx, u32 regs[4]) { guest_cpuid(fn, idx, 0, 0, regs); }, out, max);
}

const cpuidt::Features &model_features()
{
	return model;
}

} // namespace dbgkvm
