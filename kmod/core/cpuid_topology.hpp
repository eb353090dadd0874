// SPDX-License-Identifier: GPL-2.0
// The guest's CPU topology in CPUID, the same for every guest and on every host CPU: one
// package, one thread per core, each vCPU a core whose (x2)APIC ID is its vCPU id. The
// host's APIC IDs, core/thread/node numbering and package size never reach the guest.
// Pure: the host unit tests include it (tests/unit/cpuid_topology_test.cpp).
//
//   CORE_SHIFT = bits of a vCPU id (MAX_VCPU_ID ids), PKG_IDS = 1 << CORE_SHIFT,
//   PKG_CPUS = MAX_VCPUS logical processors (all cores) in the package.
//
//   leaf 1      EBX[31:24] APIC ID = vCPU id, EBX[23:16] = PKG_IDS, EDX.HTT = 1
//               (SDM Vol. 2A, CPUID: "Maximum number of addressable IDs for logical
//               processors in this physical package").
//   leaf 4      EAX[31:26] = PKG_IDS - 1 (cores per package), EAX[25:14] = threads sharing
//               the cache - 1: 0 for L1/L2 (per core), PKG_IDS - 1 for L3 and beyond.
//   0xB, 0x1F   subleaf 0: SMT level, shift 0, 1 processor; subleaf 1: core level, shift
//               CORE_SHIFT, PKG_CPUS processors; subleaf n >= 2: type 0 (invalid),
//               ECX[7:0] = n, EAX = EBX = 0; EDX = x2APIC ID = vCPU id on every subleaf
//               (SDM Vol. 2A, CPUID leaf 0BH and 1FH). 0x1F repeats 0xB: no die/module.
//   0x1A        0 (hybrid core type: differs between a hybrid host's P- and E-cores).
//   AMD only (AuthenticAMD, HygonGenuine; AMD APM Vol. 3, Appendix E.4 and E.5):
//   0x80000001  ECX.CmpLegacy = 1 (HTT's logical processors are cores, E.5.2).
//   0x80000008  ECX[7:0] NC = PKG_CPUS - 1, ECX[15:12] ApicIdCoreIdSize = CORE_SHIFT,
//               PerfTscSize kept; 0 elsewhere (reserved on Intel).
//   0x8000001D  EAX[25:14] NumSharingCache - 1, as leaf 4 (with TopologyExtensions).
//   0x8000001E  EAX extended APIC ID = vCPU id, EBX CoreId = vCPU id and 1 thread per core,
//               ECX node 0 of 1 node (with TopologyExtensions; 0 without).
//   0x80000026  0: hidden (leaf 0xB describes the topology; Linux then reads 0xB).
//
// A leaf above the host's maximum of its range answers like the host would (SDM Vol. 2A,
// CPUID: Intel returns the highest basic leaf, with the subleaf given; AMD returns 0s),
// then through these rules: a guest that asks for leaf 0x1F on an Intel host whose
// maximum basic leaf is 0xB gets the virtual leaf 0xB, not the host's.
#pragma once
#include "core/limits.hpp"
#include "rt/types.hpp"

namespace dbgkvm::topo
{

// The number of bits needed for n distinct ids (0 for n <= 1).
constexpr unsigned order(unsigned n)
{
	unsigned s = 0;
	while ((1u << s) < n)
		s++;
	return s;
}

inline constexpr unsigned SMT_SHIFT = 0; // one thread per core
inline constexpr unsigned CORE_SHIFT = order(MAX_VCPU_ID);
inline constexpr u32 PKG_IDS = 1u << CORE_SHIFT;
inline constexpr u32 PKG_CPUS = MAX_VCPUS;
static_assert(PKG_CPUS <= PKG_IDS && MAX_VCPU_ID <= PKG_IDS, "every vCPU id fits the package");
static_assert(PKG_IDS <= 64, "leaf 4 EAX[31:26] holds at most 64 cores");

inline constexpr u32 LEVEL_INVALID = 0, LEVEL_SMT = 1, LEVEL_CORE = 2; // ECX[15:8] of 0xB/0x1F
inline constexpr u32 CPUID_1_EDX_HTT = 1u << 28;
inline constexpr u32 CPUID_80000001_ECX_CMP_LEGACY = 1u << 1;
inline constexpr u32 CPUID_80000001_ECX_TOPOEXT = 1u << 22;

// What the host's CPUID says of itself, read once at module load (the same on every CPU).
struct HostCpuid {
	u32 max_basic; // CPUID.0:EAX
	u32 max_ext;   // CPUID.80000000h:EAX
	bool amd;      // AMD's CPUID rules: AuthenticAMD or HygonGenuine
	bool topoext;  // CPUID.80000001h:ECX.TopologyExtensions
};

// leaf0: CPUID.0 (EAX, EBX, ECX, EDX); ext0_eax: CPUID.80000000h:EAX; ext1_ecx:
// CPUID.80000001h:ECX (ignored if ext0_eax says there is no such leaf).
constexpr HostCpuid host_cpuid(const u32 leaf0[4], u32 ext0_eax, u32 ext1_ecx)
{
	// "AuthenticAMD" and "HygonGenuine" in EBX, EDX, ECX.
	const bool amd =
	    (leaf0[1] == 0x68747541 && leaf0[3] == 0x69746e65 && leaf0[2] == 0x444d4163) ||
	    (leaf0[1] == 0x6f677948 && leaf0[3] == 0x6e65476e && leaf0[2] == 0x656e6975);
	const u32 max_ext = (ext0_eax & 0xffff0000) == 0x80000000 ? ext0_eax : 0;
	return {leaf0[0], max_ext, amd,
		max_ext >= 0x80000001 && (ext1_ecx & CPUID_80000001_ECX_TOPOEXT)};
}

// Which host leaf answers guest leaf `leaf` (outside the hypervisor range 0x40000000 -
// 0x7fffffff, which is dbgkvm's own): the leaf itself, or for a leaf beyond the host's
// maximum, the highest basic leaf (Intel) or nothing (zero: AMD).
struct Source {
	bool zero;
	u32 leaf;
};
constexpr Source source_leaf(u32 leaf, const HostCpuid &h)
{
	const bool in_range =
	    leaf < 0x80000000 ? leaf <= h.max_basic : (h.max_ext && leaf <= h.max_ext);
	if (in_range)
		return {false, leaf};
	return h.amd ? Source{true, 0} : Source{false, h.max_basic};
}

namespace detail
{
inline void zero(u32 regs[4])
{
	regs[0] = regs[1] = regs[2] = regs[3] = 0;
}

// EAX[25:14] of leaf 4 and 0x8000001D: threads sharing the cache - 1, from its level.
constexpr u32 sharing_minus_1(u32 eax)
{
	const u32 level = (eax >> 5) & 7;
	return level >= 3 ? PKG_IDS - 1 : 0;
}

inline void x2apic_leaf(u32 subleaf, u32 vcpu_id, u32 regs[4])
{
	switch (subleaf) {
	case 0:
		regs[0] = SMT_SHIFT;
		regs[1] = 1;
		regs[2] = LEVEL_SMT << 8;
		break;
	case 1:
		regs[0] = CORE_SHIFT;
		regs[1] = PKG_CPUS;
		regs[2] = (LEVEL_CORE << 8) | 1;
		break;
	default:
		regs[0] = regs[1] = 0;
		regs[2] = subleaf & 0xff;
		break;
	}
	regs[3] = vcpu_id;
}
} // namespace detail

// The topology rules on the host's answer `regs` of `leaf` (the Source leaf)/`subleaf`,
// for the vCPU `vcpu_id` (< MAX_VCPU_ID). Leaves without topology are left as they are.
inline void apply(u32 leaf, u32 subleaf, u32 vcpu_id, const HostCpuid &h, u32 regs[4])
{
	switch (leaf) {
	case 0x1:
		regs[1] = (regs[1] & 0xffff) | (PKG_IDS << 16) | (vcpu_id << 24);
		regs[3] |= CPUID_1_EDX_HTT;
		break;
	case 0x4:
		if (!(regs[0] & 0x1f)) { // cache type 0: no more caches
			detail::zero(regs);
			break;
		}
		regs[0] = (regs[0] & 0x3fff) | (detail::sharing_minus_1(regs[0]) << 14) |
			  ((PKG_IDS - 1) << 26);
		break;
	case 0xb:
	case 0x1f:
		detail::x2apic_leaf(subleaf, vcpu_id, regs);
		break;
	case 0x1a:
	case 0x80000026:
		detail::zero(regs);
		break;
	case 0x80000001:
		if (h.amd)
			regs[2] |= CPUID_80000001_ECX_CMP_LEGACY;
		break;
	case 0x80000008:
		regs[2] = h.amd ? (regs[2] & (3u << 16)) | (CORE_SHIFT << 12) | (PKG_CPUS - 1) : 0;
		break;
	case 0x8000001d:
		if (!h.topoext || !(regs[0] & 0x1f)) {
			detail::zero(regs);
			break;
		}
		regs[0] = (regs[0] & ~(0xfffu << 14)) | (detail::sharing_minus_1(regs[0]) << 14);
		break;
	case 0x8000001e:
		detail::zero(regs);
		if (h.topoext) {
			regs[0] = vcpu_id;
			regs[1] = vcpu_id & 0xff; // threads per core - 1 = 0 in EBX[15:8]
		}
		break;
	default:
		break;
	}
}

} // namespace dbgkvm::topo
