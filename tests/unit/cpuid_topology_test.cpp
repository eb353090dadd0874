// SPDX-License-Identifier: GPL-2.0
// core/cpuid_topology.hpp: the guest's virtual topology in CPUID, whatever the host says.
#include "core/cpuid_topology.hpp"

#include <array>
#include <gtest/gtest.h>
#include <random>
#include <vector>

namespace dbgkvm::topo
{
namespace
{

using Regs = std::array<u32, 4>;

constexpr u32 AMD0[4] = {0x10, 0x68747541, 0x444d4163, 0x69746e65};   // AuthenticAMD
constexpr u32 HYGON0[4] = {0xd, 0x6f677948, 0x656e6975, 0x6e65476e};  // HygonGenuine
constexpr u32 INTEL0[4] = {0x20, 0x756e6547, 0x6c65746e, 0x49656e69}; // GenuineIntel

const HostCpuid AMD_HOST = host_cpuid(AMD0, 0x80000028, CPUID_80000001_ECX_TOPOEXT);
const HostCpuid INTEL_HOST = host_cpuid(INTEL0, 0x80000008, 0);

// The leaves the rules replace entirely: their answer may not depend on the host's at all.
constexpr u32 SYNTHESIZED[] = {0xb, 0x1f, 0x1a, 0x8000001e, 0x80000026};

Regs answer(u32 leaf, u32 subleaf, u32 vcpu, const HostCpuid &h, Regs host_regs)
{
	apply(leaf, subleaf, vcpu, h, host_regs.data());
	return host_regs;
}

// Host answers as different host CPUs give them: random, plus all zeros and all ones.
std::vector<Regs> host_inputs()
{
	std::vector<Regs> v = {{0, 0, 0, 0}, {~0u, ~0u, ~0u, ~0u}};
	std::mt19937 rng(8);
	for (int i = 0; i < 200; i++)
		v.push_back({u32(rng()), u32(rng()), u32(rng()), u32(rng())});
	return v;
}

TEST(CpuidTopology, Vendor)
{
	EXPECT_TRUE(AMD_HOST.amd);
	EXPECT_TRUE(AMD_HOST.topoext);
	EXPECT_EQ(0x80000028u, AMD_HOST.max_ext);
	EXPECT_TRUE(host_cpuid(HYGON0, 0x8000001f, 0).amd);
	EXPECT_FALSE(INTEL_HOST.amd);
	EXPECT_FALSE(INTEL_HOST.topoext);
	EXPECT_EQ(0x20u, INTEL_HOST.max_basic);
	// No extended range (CPUID.80000000h answered with a basic leaf): no TOPOEXT either.
	const HostCpuid old = host_cpuid(INTEL0, 0x20, ~0u);
	EXPECT_EQ(0u, old.max_ext);
	EXPECT_FALSE(old.topoext);
}

TEST(CpuidTopology, ShiftsFitEveryVcpuId)
{
	EXPECT_EQ(0u, order(1));
	EXPECT_EQ(1u, order(2));
	EXPECT_EQ(3u, order(8));
	EXPECT_EQ(4u, order(9));
	// Every id fits below the core shift: one package, package ID 0 for all.
	for (u32 id = 0; id < MAX_VCPU_ID; id++)
		EXPECT_EQ(0u, id >> CORE_SHIFT) << id;
	EXPECT_GE(PKG_IDS, MAX_VCPUS);
	EXPECT_LT(PKG_IDS / 2, MAX_VCPU_ID) << "CORE_SHIFT is the smallest that fits";
}

TEST(CpuidTopology, SynthesizedLeavesIgnoreTheHostAnswer)
{
	for (const HostCpuid &h : {AMD_HOST, INTEL_HOST})
		for (u32 leaf : SYNTHESIZED)
			for (u32 sub = 0; sub < 8; sub++)
				for (u32 vcpu = 0; vcpu < MAX_VCPU_ID; vcpu++) {
					const Regs want = answer(leaf, sub, vcpu, h, {});
					for (const Regs &in : host_inputs())
						ASSERT_EQ(want, answer(leaf, sub, vcpu, h, in))
						    << std::hex << "leaf " << leaf << "." << sub
						    << " vcpu " << vcpu;
				}
}

TEST(CpuidTopology, X2apicIdIsTheVcpuIdOnEverySubleaf)
{
	for (u32 leaf : {0xbu, 0x1fu})
		for (u32 vcpu = 0; vcpu < MAX_VCPU_ID; vcpu++)
			for (u32 sub : {0u, 1u, 2u, 3u, 7u, 0xffu, 0x100u, 0x12345u, ~0u})
				EXPECT_EQ(vcpu, answer(leaf, sub, vcpu, INTEL_HOST,
						       {~0u, ~0u, ~0u, 7})[3])
				    << std::hex << leaf << "." << sub;
}

TEST(CpuidTopology, LevelsAndTermination)
{
	for (u32 leaf : {0xbu, 0x1fu}) {
		const Regs smt = answer(leaf, 0, 5, INTEL_HOST, {});
		EXPECT_EQ(SMT_SHIFT, smt[0] & 0x1f);
		EXPECT_EQ(1u, smt[1] & 0xffff) << "one thread per core";
		EXPECT_EQ((LEVEL_SMT << 8) | 0, smt[2]);
		const Regs core = answer(leaf, 1, 5, INTEL_HOST, {});
		EXPECT_EQ(CORE_SHIFT, core[0] & 0x1f);
		EXPECT_EQ(PKG_CPUS, core[1] & 0xffff);
		EXPECT_EQ((LEVEL_CORE << 8) | 1, core[2]);
		// Shifts grow with the level, and each level's count fits its shift (SDM: the
		// count reflects the configuration, the shift the addressable IDs).
		EXPECT_LE(smt[0], core[0]);
		EXPECT_LE(smt[1], 1u << smt[0]);
		EXPECT_LE(core[1], 1u << core[0]);
		// Past the last level: type 0, ECX[7:0] = the subleaf, EAX = EBX = 0.
		for (u32 sub = 2; sub < 0x300; sub++) {
			const Regs r = answer(leaf, sub, 5, INTEL_HOST, {~0u, ~0u, ~0u, ~0u});
			EXPECT_EQ(0u, r[0]) << sub;
			EXPECT_EQ(0u, r[1]) << sub;
			EXPECT_EQ(sub & 0xff, r[2]) << sub;
			EXPECT_EQ(LEVEL_INVALID, (r[2] >> 8) & 0xff) << sub;
		}
	}
}

TEST(CpuidTopology, Leaf1fRepeatsLeafB)
{
	for (u32 vcpu = 0; vcpu < MAX_VCPU_ID; vcpu++)
		for (u32 sub = 0; sub < 16; sub++)
			EXPECT_EQ(answer(0xb, sub, vcpu, INTEL_HOST, {}),
				  answer(0x1f, sub, vcpu, INTEL_HOST, {~0u, 1, 2, 3}))
			    << sub;
}

// What Linux derives (arch/x86/kernel/cpu/topology_ext.c, topology_amd.c): from leaf 0xB
// the package ID is APIC ID >> core shift and the core ID the bits between the SMT and the
// core shifts; from 0x80000008 the core shift; from 0x8000001E the threads per core.
TEST(CpuidTopology, EveryVcpuIsACoreOfPackage0)
{
	for (u32 vcpu = 0; vcpu < MAX_VCPU_ID; vcpu++) {
		const Regs smt = answer(0xb, 0, vcpu, INTEL_HOST, {});
		const Regs core = answer(0xb, 1, vcpu, INTEL_HOST, {});
		const u32 apic = smt[3];
		EXPECT_EQ(0u, apic >> core[0]) << "package ID";
		EXPECT_EQ(vcpu, (apic >> smt[0]) & ((1u << (core[0] - smt[0])) - 1)) << "core ID";
		EXPECT_EQ(0u, apic & ((1u << smt[0]) - 1)) << "thread ID";

		const Regs l1 = answer(1, 0, vcpu, INTEL_HOST, {~0u, ~0u, ~0u, 0});
		EXPECT_EQ(vcpu, l1[1] >> 24) << "initial APIC ID";
		EXPECT_EQ(1u << core[0], (l1[1] >> 16) & 0xff) << "addressable IDs per package";
		EXPECT_TRUE(l1[3] & CPUID_1_EDX_HTT) << "EBX[23:16] is valid";
		EXPECT_EQ(0xffffu, l1[1] & 0xffff) << "CLFLUSH size and brand index kept";

		const Regs ext8 = answer(0x80000008, 0, vcpu, AMD_HOST, {0x3030, 0, ~0u, 0});
		EXPECT_EQ(core[0], (ext8[2] >> 12) & 0xf) << "ApicIdCoreIdSize";
		EXPECT_EQ(core[1], (ext8[2] & 0xff) + 1) << "NC + 1";
		EXPECT_EQ(3u << 16, ext8[2] & (3u << 16)) << "PerfTscSize kept";
		EXPECT_EQ(0u, ext8[2] & ~((3u << 16) | 0xf0ffu)) << "reserved bits";
		EXPECT_EQ(0u, answer(0x80000008, 0, vcpu, INTEL_HOST, {0x3030, 0, ~0u, 0})[2])
		    << "reserved on Intel";

		const Regs e = answer(0x8000001e, 0, vcpu, AMD_HOST, {~0u, ~0u, ~0u, ~0u});
		EXPECT_EQ(vcpu, e[0]) << "extended APIC ID";
		EXPECT_EQ(vcpu, e[1] & 0xff) << "core ID";
		EXPECT_EQ(smt[1], ((e[1] >> 8) & 0xff) + 1) << "threads per core";
		EXPECT_EQ(0u, e[2]) << "node 0 of 1";
		EXPECT_EQ(0u, e[3]);
	}
	EXPECT_TRUE(answer(0x80000001, 0, 0, AMD_HOST, {})[2] & CPUID_80000001_ECX_CMP_LEGACY);
	EXPECT_EQ(0u, answer(0x80000001, 0, 0, INTEL_HOST, {})[2]);
}

TEST(CpuidTopology, WithoutTopologyExtensionsTheirLeavesAreZero)
{
	const HostCpuid h = host_cpuid(AMD0, 0x80000020, 0);
	for (u32 leaf : {0x8000001du, 0x8000001eu})
		EXPECT_EQ((Regs{}), answer(leaf, 0, 3, h, {0x121, ~0u, ~0u, ~0u}))
		    << std::hex << leaf;
}

// Leaf 4 and 0x8000001D: EAX[25:14] threads sharing the cache - 1 from the cache level
// alone; leaf 4 EAX[31:26] cores per package - 1; the geometry is the host's.
TEST(CpuidTopology, CacheLeaves)
{
	for (const Regs &in : host_inputs()) {
		for (u32 level = 1; level <= 3; level++) {
			Regs h = in;
			h[0] = (h[0] & ~0xe0u) | (level << 5) | 1; // a data cache of that level
			const u32 share = level >= 3 ? PKG_IDS - 1 : 0;
			const Regs l4 = answer(4, 0, 2, INTEL_HOST, h);
			EXPECT_EQ(share, (l4[0] >> 14) & 0xfff) << level;
			EXPECT_EQ(PKG_IDS - 1, l4[0] >> 26);
			EXPECT_EQ(h[0] & 0x3fff, l4[0] & 0x3fff);
			EXPECT_EQ(h[1], l4[1]);
			EXPECT_EQ(h[2], l4[2]);
			EXPECT_EQ(h[3], l4[3]);
			const Regs d = answer(0x8000001d, 0, 2, AMD_HOST, h);
			EXPECT_EQ(share, (d[0] >> 14) & 0xfff) << level;
			EXPECT_EQ(h[0] & ~(0xfffu << 14), d[0] & ~(0xfffu << 14));
		}
		// Cache type 0 ends the list: nothing of the host's after it.
		Regs h = in;
		h[0] &= ~0x1fu;
		EXPECT_EQ((Regs{}), answer(4, 4, 2, INTEL_HOST, h));
		EXPECT_EQ((Regs{}), answer(0x8000001d, 4, 2, AMD_HOST, h));
	}
}

// Two vCPUs' answers differ only in the fields that hold their APIC IDs.
TEST(CpuidTopology, VcpusDifferOnlyInApicIds)
{
	const Regs in = {0x12345678, 0x9abcdef0, 0x0fedcba9, 0x87654321};
	for (const HostCpuid &h : {AMD_HOST, INTEL_HOST})
		for (u32 leaf : {1u, 4u, 0xbu, 0x1au, 0x1fu, 0x80000001u, 0x80000008u, 0x8000001du,
				 0x8000001eu, 0x80000026u})
			for (u32 sub = 0; sub < 4; sub++) {
				Regs a = answer(leaf, sub, 0, h, in),
				     b = answer(leaf, sub, 6, h, in);
				if (leaf == 1) {
					EXPECT_EQ(0u, a[1] >> 24);
					EXPECT_EQ(6u, b[1] >> 24);
					a[1] &= 0xffffff, b[1] &= 0xffffff;
				} else if (leaf == 0xb || leaf == 0x1f || leaf == 0x8000001e) {
					const int id = leaf == 0x8000001e ? 0 : 3;
					EXPECT_EQ(0u, a[id]);
					EXPECT_EQ(h.topoext || leaf != 0x8000001e ? 6u : 0u, b[id]);
					a[id] = b[id] = 0;
					if (leaf == 0x8000001e)
						a[1] &= ~0xffu, b[1] &= ~0xffu; // core ID
				}
				EXPECT_EQ(a, b) << std::hex << leaf << "." << sub;
			}
}

TEST(CpuidTopology, LeavesBeyondTheHostMaximum)
{
	// In range: the leaf itself.
	for (u32 leaf : {0u, 0xbu, 0x1fu, 0x20u, 0x80000000u, 0x80000008u}) {
		const Source s = source_leaf(leaf, INTEL_HOST);
		EXPECT_FALSE(s.zero);
		EXPECT_EQ(leaf, s.leaf);
	}
	// Intel: the highest basic leaf (SDM Vol. 2A, CPUID), with the caller's subleaf.
	for (u32 leaf :
	     {0x21u, 0x3fffffffu, 0x80000009u, 0x8000001eu, 0x80000026u, 0xc0000000u, ~0u}) {
		const Source s = source_leaf(leaf, INTEL_HOST);
		EXPECT_FALSE(s.zero) << std::hex << leaf;
		EXPECT_EQ(INTEL_HOST.max_basic, s.leaf) << std::hex << leaf;
	}
	// AMD: zeros.
	for (u32 leaf : {0x11u, 0x3fffffffu, 0x80000029u, 0xc0000000u, ~0u})
		EXPECT_TRUE(source_leaf(leaf, AMD_HOST).zero) << std::hex << leaf;
	EXPECT_FALSE(source_leaf(0x8000001e, AMD_HOST).zero);
	// An Intel host whose highest basic leaf is 0xB: leaf 0x1F answers as the virtual 0xB
	// (the host's own 0xB, with its x2APIC ID, never shows).
	const u32 nehalem0[4] = {0xb, INTEL0[1], INTEL0[2], INTEL0[3]};
	const HostCpuid nh = host_cpuid(nehalem0, 0x80000008, 0);
	const Source s = source_leaf(0x1f, nh);
	EXPECT_EQ(0xbu, s.leaf);
	for (u32 sub = 0; sub < 4; sub++)
		EXPECT_EQ(answer(0xb, sub, 4, nh, {}),
			  answer(s.leaf, sub, 4, nh, {1, 2, 3, 0x55 /* host x2APIC ID */}));
}

} // namespace
} // namespace dbgkvm::topo
