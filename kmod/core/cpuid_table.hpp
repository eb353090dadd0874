// SPDX-License-Identifier: GPL-2.0
// A vCPU's CPUID table (KVM_SET_CPUID2) and how the guest's CPUID instruction reads it:
// KVM's rules (arch/x86/kvm/cpuid.c), pure, for the host unit tests too.
#pragma once
#include "rt/types.hpp"

#include <linux/kvm.h>

namespace dbgkvm::cpuidt
{

inline constexpr u32 MAX_ENTRIES = 256; // KVM_MAX_CPUID_ENTRIES

// struct kvm_cpuid2 without its flexible array of entries, which follow it.
struct Cpuid2Header {
	u32 nent;
	u32 padding;
};
static_assert(sizeof(Cpuid2Header) == 8 && sizeof(kvm_cpuid_entry2) == 40);

// The ioctl numbers, built from the C layout: 6.1's <linux/kvm.h> declares the entries
// with __DECLARE_FLEX_ARRAY, which in C++ adds an empty struct to kvm_cpuid2 (12 bytes,
// not 8), so its KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2 and KVM_GET_CPUID2 carry the
// wrong size here. The same holds for every uapi struct ending in a flexible array.
inline constexpr unsigned int IOCTL_GET_SUPPORTED_CPUID = _IOWR(KVMIO, 0x05, Cpuid2Header);
inline constexpr unsigned int IOCTL_SET_CPUID2 = _IOW(KVMIO, 0x90, Cpuid2Header);
inline constexpr unsigned int IOCTL_GET_CPUID2 = _IOWR(KVMIO, 0x91, Cpuid2Header);
static_assert(IOCTL_GET_SUPPORTED_CPUID == 0xc008ae05 && IOCTL_SET_CPUID2 == 0x4008ae90 &&
	      IOCTL_GET_CPUID2 == 0xc008ae91);

// The leaves whose ECX input selects a subleaf (KVM's cpuid_function_is_indexed): their
// entries carry KVM_CPUID_FLAG_SIGNIFCANT_INDEX in KVM_GET_SUPPORTED_CPUID.
constexpr bool indexed(u32 fn)
{
	switch (fn) {
	case 0x4:
	case 0x7:
	case 0xb:
	case 0xd:
	case 0xf:
	case 0x10:
	case 0x12:
	case 0x14:
	case 0x17:
	case 0x18:
	case 0x1d:
	case 0x1e:
	case 0x1f:
	case 0x24:
	case 0x8000001d:
		return true;
	default:
		return false;
	}
}

// The first entry for `fn` whose index is `idx` or not significant (cpuid_entry2_find:
// duplicates are user space's problem).
const kvm_cpuid_entry2 *find(const kvm_cpuid_entry2 *e, u32 n, u32 fn, u32 idx);

// The guest's CPUID instruction (KVM's kvm_cpuid): the exact entry; else, unless the
// table's vendor is AMD or Hygon, a leaf beyond its class's maximum (leaf 0, 0x40000000,
// 0x80000000, 0xc0000000) reads as the maximum basic leaf with the same subleaf (Intel's
// rule, SDM Vol. 2A CPUID: "If a value entered for CPUID.EAX is higher than the maximum
// input value..."); else zeros, except that leaves 0xB and 0x1F keep ECX[7:0] and the
// x2APIC ID in EDX for any subleaf once subleaf 1 exists. Returns whether it was exact;
// *used (if given): the entry that answered, or nullptr for zeros.
bool lookup(const kvm_cpuid_entry2 *e, u32 n, u32 fn, u32 idx, u32 regs[4],
	    const kvm_cpuid_entry2 **used = nullptr);

// KVM's kvm_check_cpuid: a virtual-address width (0x80000008 EAX[15:8]) other than 0, 48
// or 57 is refused (-EINVAL).
bool table_valid(const kvm_cpuid_entry2 *e, u32 n);

// KVM_SET_CPUID2 after the first KVM_RUN must repeat the table (kvm_cpuid_check_equal):
// the same entries in the same order, padding aside.
bool tables_equal(const kvm_cpuid_entry2 *a, u32 na, const kvm_cpuid_entry2 *b, u32 nb);

// The bits that follow the vCPU's state, as KVM's __kvm_update_cpuid_runtime keeps them:
// CPUID.1:EDX.APIC = IA32_APIC_BASE.EN, CPUID.1:ECX.OSXSAVE = CR4.OSXSAVE,
// CPUID.7.0:ECX.OSPKE = CR4.PKE (when the table offers XSAVE / PKU).
void update_runtime(kvm_cpuid_entry2 *e, u32 n, u64 cr4, u64 apic_base);

// What the MSR rules read of a vCPU's CPUID table, as KVM's guest_cpuid_has() and
// cpuid_query_maxphyaddr() read it: exact entries only, a missing entry offers nothing.
struct Features {
	u8 phys_bits = 36;   // MAXPHYADDR: 0x80000008 EAX[7:0] if 0x80000000 reaches it, else 36
	bool x2apic = false; // 1 ECX[21]: IA32_APIC_BASE.EXTD may be set
	bool rdtscp = false; // 0x80000001 EDX[27] \ the guest may read and write
	bool rdpid = false;  // 7.0 ECX[22]       / IA32_TSC_AUX
	bool amd_compatible = false; // leaf 0: AuthenticAMD, AMDisbetter! or HygonGenuine (KVM's
				     // guest_cpuid_is_amd_compatible; not: Intel-compatible)
	// The CR4 and EFER bits the guest may set (core/cr_rules.hpp, KVM's
	// __cr4_reserved_bits and __kvm_valid_efer):
	bool fsgsbase = false; // 7.0 EBX[0]: CR4.FSGSBASE
	bool smep = false;     // 7.0 EBX[7]: CR4.SMEP
	bool smap = false;     // 7.0 EBX[20]: CR4.SMAP
	bool nx = false;       // 0x80000001 EDX[20]: EFER.NXE
	bool lm = false;       // 0x80000001 EDX[29]: EFER.LME/LMA

	// Bits at or above MAXPHYADDR (KVM's kvm_vcpu_reserved_gpa_bits_raw).
	constexpr u64 above_maxphyaddr() const
	{
		return phys_bits >= 64 ? 0 : ~((u64{1} << phys_bits) - 1);
	}
};
Features features(const kvm_cpuid_entry2 *e, u32 n);

// KVM_GET_SUPPORTED_CPUID's table from a CPUID model `leaf(fn, idx, regs)`: leaves 0 to
// the maximum basic leaf, 0x40000000 to its maximum, 0x80000000 to the maximum extended
// leaf; every subleaf of the indexed leaves (4 and 0x8000001D: up to the first null cache
// type; 0xB and 0x1F: up to the first invalid level; 7: up to 7.0 EAX; the others: 0),
// each including the terminating one, as KVM lists them. Writes at most `max` entries
// and returns how many the table has: more than `max` means -E2BIG.
template <class Leaf> u32 enumerate(Leaf &&leaf, kvm_cpuid_entry2 *out, u32 max)
{
	u32 n = 0;
	auto add = [&](u32 fn, u32 idx, const u32 regs[4]) {
		if (n < max) {
			kvm_cpuid_entry2 &e = out[n];
			e = kvm_cpuid_entry2{};
			e.function = fn;
			e.index = indexed(fn) ? idx : 0;
			e.flags = indexed(fn) ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
			e.eax = regs[0];
			e.ebx = regs[1];
			e.ecx = regs[2];
			e.edx = regs[3];
		}
		n++;
	};
	auto range = [&](u32 first) {
		u32 top[4];
		leaf(first, 0, top);
		u32 last = top[0];
		if (last < first || last - first > 0xff) // no such class, or nonsense
			last = first;
		for (u32 fn = first;; fn++) {
			u32 subs = 1; // subleaves listed for the other indexed leaves
			for (u32 idx = 0; idx < 64; idx++) {
				u32 regs[4];
				leaf(fn, idx, regs);
				if (fn == 7 && idx == 0)
					subs = regs[0] + 1; // 7.0 EAX: the last subleaf
				add(fn, idx, regs);
				if (!indexed(fn))
					break;
				if (fn == 4 || fn == 0x8000001d) {
					if (!(regs[0] & 0x1f))
						break;
				} else if (fn == 0xb || fn == 0x1f) {
					if (!(regs[2] & 0xff00))
						break;
				} else if (idx + 1 >= subs) {
					break;
				}
			}
			if (fn == last)
				break;
		}
	};
	range(0);
	range(0x40000000);
	range(0x80000000);
	return n;
}

} // namespace dbgkvm::cpuidt
