// SPDX-License-Identifier: GPL-2.0
// core/core_msrs.hpp: KVM's rules for the MSRs the core keeps, and core/cpuid_table.hpp's
// Features, which those rules read.
#include "core/core_msrs.hpp"

#include <gtest/gtest.h>
#include <vector>

namespace dbgkvm::msr
{
namespace
{

using cpuidt::Features;

constexpr bool HOST = true, GUEST = false;

kvm_cpuid_entry2 entry(u32 fn, u32 eax, u32 ebx, u32 ecx, u32 edx)
{
	kvm_cpuid_entry2 e{};
	e.function = fn;
	e.eax = eax;
	e.ebx = ebx;
	e.ecx = ecx;
	e.edx = edx;
	return e;
}

Features intel_rdtscp_x2apic()
{
	Features f;
	f.phys_bits = 39;
	f.x2apic = true;
	f.rdtscp = true;
	return f;
}

CoreMsrs fresh(unsigned id = 0, bool host_tsc_aux = true)
{
	CoreMsrs m;
	m.reset(id, host_tsc_aux, UCODE_REV_RESET_VMX);
	return m;
}

u64 get(const CoreMsrs &m, u32 index, bool host, const Features &f)
{
	u64 v = 0xdead;
	EXPECT_EQ(MsrResult::Done, m.get(index, host, f, &v)) << std::hex << index;
	return v;
}

TEST(CpuidFeatures, ReadsExactEntriesOnly)
{
	// MAXPHYADDR needs 0x80000000 to reach 0x80000008 (cpuid_query_maxphyaddr), else 36.
	std::vector<kvm_cpuid_entry2> t = {
	    entry(0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69), // GenuineIntel
	    entry(1, 0, 0, 1u << 21, 0),
	    entry(0x80000000, 0x80000008, 0, 0, 0),
	    entry(0x80000001, 0, 0, 0, 1u << 27),
	    entry(0x80000008, 0x3027, 0, 0, 0),
	};
	Features f = cpuidt::features(t.data(), u32(t.size()));
	EXPECT_EQ(39, f.phys_bits);
	EXPECT_TRUE(f.x2apic && f.rdtscp);
	EXPECT_FALSE(f.rdpid || f.amd_compatible);
	t[2].eax = 0x80000001;
	EXPECT_EQ(36, cpuidt::features(t.data(), u32(t.size())).phys_bits);
	t[0].ebx = 0x68747541; // AuthenticAMD
	t[0].ecx = 0x444d4163;
	t[0].edx = 0x69746e65;
	EXPECT_TRUE(cpuidt::features(t.data(), u32(t.size())).amd_compatible);
	const Features none = cpuidt::features(nullptr, 0);
	EXPECT_EQ(36, none.phys_bits);
	EXPECT_FALSE(none.x2apic || none.rdtscp || none.rdpid || none.amd_compatible);
	EXPECT_FALSE(none.fsgsbase || none.smep || none.smap || none.nx || none.lm);
}

TEST(CpuidFeatures, CrAndEferBits)
{
	std::vector<kvm_cpuid_entry2> t = {
	    entry(7, 0, (1u << 0) | (1u << 20), 0, 0),		 // FSGSBASE, SMAP; no SMEP
	    entry(0x80000001, 0, 0, 0, (1u << 20) | (1u << 29)), // NX, LM
	};
	Features f = cpuidt::features(t.data(), u32(t.size()));
	EXPECT_TRUE(f.fsgsbase && f.smap && f.nx && f.lm);
	EXPECT_FALSE(f.smep);
	t[0].ebx = 1u << 7;
	t[1].edx = 1u << 29;
	f = cpuidt::features(t.data(), u32(t.size()));
	EXPECT_TRUE(f.smep && f.lm);
	EXPECT_FALSE(f.fsgsbase || f.smap || f.nx);
}

TEST(CoreMsrs, ResetValuesAreKvms)
{
	const Features f = intel_rdtscp_x2apic();
	EXPECT_EQ(0xfee00900u, get(fresh(0), 0x1b, GUEST, f)); // BSP only on vCPU 0
	EXPECT_EQ(0xfee00800u, get(fresh(3), 0x1b, GUEST, f));
	EXPECT_EQ(0x1800u, get(fresh(), 0x1a0, GUEST, f));
	EXPECT_EQ(u64{1} << 32, get(fresh(), 0x8b, GUEST, f));
	EXPECT_EQ(0x508u, get(fresh(), 0xfe, GUEST, f)); // MTRRCAP: WC, FIX, 8 ranges
	EXPECT_EQ(0u, get(fresh(), 0x2ff, GUEST, f));
	EXPECT_EQ(0u, get(fresh(), 0x6e0, GUEST, f));
}

TEST(CoreMsrs, ApicBaseRules)
{
	Features f = intel_rdtscp_x2apic();
	CoreMsrs m = fresh();
	// Reserved: bits 0-7, 9, at or above MAXPHYADDR; EXTD without EN.
	for (u64 bad : {0xfee00901ull, 0xfee00b00ull, 0xfee00900ull | u64{1} << 39, 0xfee00400ull})
		EXPECT_FALSE(apic_base_valid(bad, f)) << std::hex << bad;
	EXPECT_TRUE(apic_base_valid(0xfee00d00, f));
	f.x2apic = false; // EXTD is reserved without x2APIC in CPUID
	EXPECT_FALSE(apic_base_valid(0xfee00d00, f));
	EXPECT_EQ(MsrResult::Fault, m.set(0x1b, 0xfee00d00, HOST, f));
	f.x2apic = true;
	// The guest: xAPIC -> x2APIC -> not back to xAPIC; disabled -> not straight to x2APIC.
	EXPECT_EQ(MsrResult::Done, m.set(0x1b, 0xfee00d00, GUEST, f));
	EXPECT_EQ(MsrResult::Fault, m.set(0x1b, 0xfee00900, GUEST, f));
	EXPECT_EQ(MsrResult::Done, m.set(0x1b, 0xfee00100, GUEST, f));
	EXPECT_EQ(MsrResult::Fault, m.set(0x1b, 0xfee00d00, GUEST, f));
	EXPECT_EQ(0xfee00100u, get(m, 0x1b, GUEST, f));
	// User space may make any valid transition (host_initiated).
	EXPECT_EQ(MsrResult::Done, m.set(0x1b, 0xfee00d00, HOST, f));
	EXPECT_EQ(MsrResult::Done, m.set(0x1b, 0xfee00900, HOST, f));
}

TEST(CoreMsrs, TscAuxNeedsRdtscpOrRdpidForTheGuest)
{
	Features f = intel_rdtscp_x2apic();
	f.rdtscp = false;
	CoreMsrs m = fresh();
	u64 v;
	EXPECT_EQ(MsrResult::Fault, m.get(0xc0000103, GUEST, f, &v));
	EXPECT_EQ(MsrResult::Fault, m.set(0xc0000103, 5, GUEST, f));
	EXPECT_EQ(MsrResult::Done, m.set(0xc0000103, 5, HOST, f));
	EXPECT_EQ(5u, m.tsc_aux());
	f.rdpid = true;
	EXPECT_EQ(MsrResult::Done, m.set(0xc0000103, 7, GUEST, f));
	EXPECT_EQ(7u, get(m, 0xc0000103, GUEST, f));
	// Bits 63:32: reserved unless the guest's vendor is AMD's; then dropped.
	EXPECT_EQ(MsrResult::Fault, m.set(0xc0000103, u64{1} << 32 | 9, HOST, f));
	f.amd_compatible = true;
	EXPECT_EQ(MsrResult::Done, m.set(0xc0000103, u64{1} << 32 | 9, GUEST, f));
	EXPECT_EQ(9u, m.tsc_aux());
	// A host without IA32_TSC_AUX: refused to user space too.
	CoreMsrs none = fresh(0, false);
	EXPECT_EQ(MsrResult::Fault, none.set(0xc0000103, 1, HOST, f));
	EXPECT_EQ(MsrResult::Fault, none.get(0xc0000103, HOST, f, &v));
}

TEST(CoreMsrs, MiscEnableGuestRules)
{
	const Features f = intel_rdtscp_x2apic();
	CoreMsrs m = fresh();
	EXPECT_EQ(MsrResult::Fault, m.set(0x1a0, 0x800, GUEST, f)); // PEBS_UNAVAIL is RO
	EXPECT_EQ(MsrResult::Done, m.set(0x1a0, 0x1881, GUEST, f)); // EMON ignored
	EXPECT_EQ(0x1801u, get(m, 0x1a0, GUEST, f));
	EXPECT_EQ(MsrResult::Done, m.set(0x1a0, 0x81, HOST, f)); // user space sets anything
	EXPECT_EQ(0x81u, get(m, 0x1a0, GUEST, f));
}

TEST(CoreMsrs, UcodeRevIsUserSpaces)
{
	const Features f = intel_rdtscp_x2apic();
	CoreMsrs m = fresh();
	EXPECT_EQ(MsrResult::Done, m.set(0x8b, 0, GUEST, f)); // ignored
	EXPECT_EQ(u64{1} << 32, get(m, 0x8b, GUEST, f));
	EXPECT_EQ(MsrResult::Done, m.set(0x8b, 0x1234, HOST, f));
	EXPECT_EQ(0x1234u, get(m, 0x8b, GUEST, f));
}

TEST(CoreMsrs, MtrrRules)
{
	const Features f = intel_rdtscp_x2apic(); // MAXPHYADDR 39
	CoreMsrs m = fresh();
	// MTRRCAP is read-only; unknown numbers in the block fault; MCi_CTL2 are not MTRRs.
	EXPECT_EQ(MsrResult::Fault, m.set(0xfe, 0x508, HOST, f));
	u64 v;
	EXPECT_EQ(MsrResult::Fault, m.get(0x210, GUEST, f, &v));
	EXPECT_EQ(MsrResult::Fault, m.set(0x251, 0, HOST, f));
	EXPECT_EQ(MsrResult::NotMine, m.get(0x280, GUEST, f, &v));
	EXPECT_EQ(MsrResult::NotMine, m.get(0x277, GUEST, f, &v)); // PAT: the backend's
	// Default type: the type, FE and E only; types 2, 3 and 7 are reserved.
	EXPECT_EQ(MsrResult::Done, m.set(0x2ff, 0xc06, GUEST, f));
	EXPECT_EQ(0xc06u, get(m, 0x2ff, GUEST, f));
	EXPECT_EQ(MsrResult::Fault, m.set(0x2ff, 0x1006, GUEST, f));
	EXPECT_EQ(MsrResult::Fault, m.set(0x2ff, 0xc02, GUEST, f));
	EXPECT_EQ(MsrResult::Fault, m.set(0x2ff, 0xc07, GUEST, f));
	// Fixed ranges: every byte a type.
	EXPECT_EQ(MsrResult::Done, m.set(0x26f, 0x0606050504040100, GUEST, f));
	EXPECT_EQ(0x0606050504040100u, get(m, 0x26f, HOST, f));
	EXPECT_EQ(MsrResult::Fault, m.set(0x250, 0x0600000000000000 | 0x03, GUEST, f));
	// Variable ranges: base without bits 8-11 and above MAXPHYADDR; mask without 0-10.
	EXPECT_EQ(MsrResult::Done, m.set(0x20e, 0x7f00000006, GUEST, f));
	EXPECT_EQ(MsrResult::Done, m.set(0x20f, 0x7ff0000800, GUEST, f));
	EXPECT_EQ(0x7f00000006u, get(m, 0x20e, GUEST, f));
	EXPECT_EQ(0x7ff0000800u, get(m, 0x20f, GUEST, f));
	EXPECT_EQ(MsrResult::Fault, m.set(0x200, 0x106, GUEST, f));
	EXPECT_EQ(MsrResult::Fault, m.set(0x200, 0x8000000006, GUEST, f));
	EXPECT_EQ(MsrResult::Fault, m.set(0x201, 0x400, GUEST, f));
	EXPECT_EQ(MsrResult::Fault, m.set(0x201, 0x8000000800, GUEST, f));
	EXPECT_EQ(MsrResult::NotMine, m.get(0x1f0, GUEST, f, &v)); // not in the block
}

TEST(CoreMsrs, IndexListsAreRoundTrippable)
{
	// Every MSR the lists name (those the core keeps) reads, and takes back what it read.
	const Features f = intel_rdtscp_x2apic();
	u32 list[32];
	const u32 n = index_list(list, 32, true);
	ASSERT_GT(n, 10u);
	EXPECT_EQ(n - 1, index_list(list, 32, false)); // no TSC_AUX on such a host
	EXPECT_EQ(n, index_list(list, 2, true));       // the length, whatever fits
	index_list(list, 32, true);
	CoreMsrs m = fresh();
	for (u32 i = 0; i < n; i++) {
		u64 v;
		const MsrResult r = m.get(list[i], HOST, f, &v);
		if (r == MsrResult::NotMine)
			continue; // a backend's
		ASSERT_EQ(MsrResult::Done, r) << std::hex << list[i];
		EXPECT_EQ(MsrResult::Done, m.set(list[i], v, HOST, f)) << std::hex << list[i];
	}
	EXPECT_EQ(1u, feature_index_list(list, 32));
	EXPECT_EQ(0x8bu, list[0]);
}

} // namespace
} // namespace dbgkvm::msr
