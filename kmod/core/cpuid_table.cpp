// SPDX-License-Identifier: GPL-2.0
#include "core/cpuid_table.hpp"

#include "rt/x86_defs.hpp"

namespace dbgkvm::cpuidt
{

namespace
{
// Leaf 0's EBX, ECX, EDX for the vendors whose CPUs answer 0 beyond the maximum leaf.
constexpr u32 VENDOR_NO_MAX_BASIC[][3] = {
    {0x68747541, 0x444d4163, 0x69746e65}, // "AuthenticAMD"
    {0x69444d41, 0x21726574, 0x74656273}, // "AMDisbetter!"
    {0x6f677948, 0x656e6975, 0x6e65476e}, // "HygonGenuine"
};

void set(u32 regs[4], const kvm_cpuid_entry2 &e)
{
	regs[0] = e.eax;
	regs[1] = e.ebx;
	regs[2] = e.ecx;
	regs[3] = e.edx;
}

kvm_cpuid_entry2 *find_mut(kvm_cpuid_entry2 *e, u32 n, u32 fn, u32 idx)
{
	return const_cast<kvm_cpuid_entry2 *>(find(e, n, fn, idx));
}

void change(u32 *reg, u32 bit, bool on)
{
	*reg = on ? *reg | bit : *reg & ~bit;
}
} // namespace

const kvm_cpuid_entry2 *find(const kvm_cpuid_entry2 *e, u32 n, u32 fn, u32 idx)
{
	for (u32 i = 0; i < n; i++)
		if (e[i].function == fn &&
		    (!(e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e[i].index == idx))
			return &e[i];
	return nullptr;
}

bool lookup(const kvm_cpuid_entry2 *e, u32 n, u32 fn, u32 idx, u32 regs[4],
	    const kvm_cpuid_entry2 **used)
{
	const kvm_cpuid_entry2 *unused;
	if (!used)
		used = &unused;
	if (const kvm_cpuid_entry2 *x = find(e, n, fn, idx)) {
		set(regs, *x);
		*used = x;
		return true;
	}
	// get_out_of_range_cpuid_entry
	u32 eff = fn;
	const kvm_cpuid_entry2 *entry = nullptr;
	if (const kvm_cpuid_entry2 *basic = find(e, n, 0, 0)) {
		bool max_basic_rule = true;
		for (const auto &v : VENDOR_NO_MAX_BASIC)
			if (basic->ebx == v[0] && basic->ecx == v[1] && basic->edx == v[2])
				max_basic_rule = false;
		u32 class_leaf = fn & 0x80000000;
		if (fn >= 0x40000000 && fn <= 0x4fffffff)
			class_leaf = fn & 0xffffff00;
		else if (fn >= 0xc0000000)
			class_leaf = 0xc0000000;
		const kvm_cpuid_entry2 *cls = find(e, n, class_leaf, 0);
		if (max_basic_rule && !(cls && fn <= cls->eax)) {
			eff = basic->eax;
			entry = find(e, n, eff, idx);
		}
	}
	*used = entry;
	if (entry) {
		set(regs, *entry);
		return false;
	}
	regs[0] = regs[1] = regs[2] = regs[3] = 0;
	if (eff == 0xb || eff == 0x1f) {
		if (const kvm_cpuid_entry2 *one = find(e, n, eff, 1)) {
			regs[2] = idx & 0xff;
			regs[3] = one->edx;
		}
	}
	return false;
}

bool table_valid(const kvm_cpuid_entry2 *e, u32 n)
{
	const kvm_cpuid_entry2 *x = find(e, n, 0x80000008, 0);
	if (!x)
		return true;
	const u32 va_bits = (x->eax >> 8) & 0xff;
	return va_bits == 0 || va_bits == 48 || va_bits == 57;
}

bool tables_equal(const kvm_cpuid_entry2 *a, u32 na, const kvm_cpuid_entry2 *b, u32 nb)
{
	if (na != nb)
		return false;
	for (u32 i = 0; i < na; i++)
		if (a[i].function != b[i].function || a[i].index != b[i].index ||
		    a[i].flags != b[i].flags || a[i].eax != b[i].eax || a[i].ebx != b[i].ebx ||
		    a[i].ecx != b[i].ecx || a[i].edx != b[i].edx)
			return false;
	return true;
}

void update_runtime(kvm_cpuid_entry2 *e, u32 n, u64 cr4, u64 apic_base)
{
	constexpr u32 APIC = 1u << 9, XSAVE = 1u << 26, OSXSAVE = 1u << 27; // leaf 1
	constexpr u32 PKU = 1u << 3, OSPKE = 1u << 4;			    // leaf 7.0 ECX
	constexpr u64 APIC_BASE_EN = u64{1} << 11, CR4_PKE = u64{1} << 22;
	if (kvm_cpuid_entry2 *one = find_mut(e, n, 1, 0)) {
		change(&one->edx, APIC, apic_base & APIC_BASE_EN);
		if (one->ecx & XSAVE)
			change(&one->ecx, OSXSAVE, cr4 & x86::CR4_OSXSAVE);
	}
	if (kvm_cpuid_entry2 *seven = find_mut(e, n, 7, 0))
		if (seven->ecx & PKU)
			change(&seven->ecx, OSPKE, cr4 & CR4_PKE);
}

Features features(const kvm_cpuid_entry2 *e, u32 n)
{
	Features f;
	const kvm_cpuid_entry2 *ext = find(e, n, 0x80000000, 0);
	const kvm_cpuid_entry2 *e8 = find(e, n, 0x80000008, 0);
	if (ext && ext->eax >= 0x80000008 && e8)
		f.phys_bits = e8->eax & 0xff;
	if (const kvm_cpuid_entry2 *one = find(e, n, 1, 0))
		f.x2apic = one->ecx & (1u << 21);
	if (const kvm_cpuid_entry2 *e1 = find(e, n, 0x80000001, 0)) {
		f.rdtscp = e1->edx & (1u << 27);
		f.nx = e1->edx & (1u << 20);
		f.lm = e1->edx & (1u << 29);
	}
	if (const kvm_cpuid_entry2 *seven = find(e, n, 7, 0)) {
		f.rdpid = seven->ecx & (1u << 22);
		f.fsgsbase = seven->ebx & (1u << 0);
		f.smep = seven->ebx & (1u << 7);
		f.smap = seven->ebx & (1u << 20);
	}
	if (const kvm_cpuid_entry2 *zero = find(e, n, 0, 0)) {
		for (const auto &v : VENDOR_NO_MAX_BASIC)
			f.amd_compatible |=
			    zero->ebx == v[0] && zero->ecx == v[1] && zero->edx == v[2];
	}
	return f;
}

} // namespace dbgkvm::cpuidt
