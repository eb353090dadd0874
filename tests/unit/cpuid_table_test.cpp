// SPDX-License-Identifier: GPL-2.0
// core/cpuid_table.hpp: KVM's rules for a vCPU's CPUID table.
#include "core/cpuid_table.hpp"

#include <array>
#include <gtest/gtest.h>
#include <vector>

namespace dbgkvm::cpuidt
{
namespace
{

using Regs = std::array<u32, 4>;

kvm_cpuid_entry2 entry(u32 fn, u32 idx, bool sig, Regs r)
{
	kvm_cpuid_entry2 e{};
	e.function = fn;
	e.index = idx;
	e.flags = sig ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
	e.eax = r[0];
	e.ebx = r[1];
	e.ecx = r[2];
	e.edx = r[3];
	return e;
}

constexpr Regs INTEL0 = {0xd, 0x756e6547, 0x6c65746e, 0x49656e69}; // GenuineIntel, max 0xd
constexpr Regs AMD0 = {0xd, 0x68747541, 0x444d4163, 0x69746e65};   // AuthenticAMD

std::vector<kvm_cpuid_entry2> table(Regs leaf0)
{
	return {entry(0, 0, false, leaf0),
		entry(1, 0, false, {0x1, 0x2, 0x3, 0x4}),
		entry(0xb, 0, true, {1, 1, 0x100, 7}),
		entry(0xb, 1, true, {4, 4, 0x201, 7}),
		entry(0xd, 0, true, {0xd0, 0xd1, 0xd2, 0xd3}),
		entry(0xd, 1, true, {0xe0, 0xe1, 0xe2, 0xe3}),
		entry(0x80000000, 0, false, {0x80000001, 0, 0, 0}),
		entry(0x80000001, 0, false, {0, 0, 0, 0x20000000})};
}

Regs look(const std::vector<kvm_cpuid_entry2> &t, u32 fn, u32 idx, bool *exact = nullptr)
{
	Regs r = {0xdead, 0xdead, 0xdead, 0xdead};
	const bool x = lookup(t.data(), u32(t.size()), fn, idx, r.data());
	if (exact)
		*exact = x;
	return r;
}

TEST(CpuidTable, ExactEntryIgnoresIndexUnlessSignificant)
{
	auto t = table(INTEL0);
	bool exact = false;
	EXPECT_EQ((Regs{1, 2, 3, 4}), look(t, 1, 99, &exact));
	EXPECT_TRUE(exact);
	EXPECT_EQ((Regs{0xe0, 0xe1, 0xe2, 0xe3}), look(t, 0xd, 1, &exact));
	EXPECT_TRUE(exact);
}

TEST(CpuidTable, IntelOutOfRangeReadsMaxBasicLeafWithTheSameSubleaf)
{
	auto t = table(INTEL0);
	bool exact = true;
	// beyond the maximum basic leaf (0xd): 0xd's subleaf 1
	EXPECT_EQ((Regs{0xe0, 0xe1, 0xe2, 0xe3}), look(t, 0x20, 1, &exact));
	EXPECT_FALSE(exact);
	// beyond the maximum extended leaf, and a class with no entry (0x40000000)
	EXPECT_EQ((Regs{0xd0, 0xd1, 0xd2, 0xd3}), look(t, 0x80000002, 0));
	EXPECT_EQ((Regs{0xd0, 0xd1, 0xd2, 0xd3}), look(t, 0x40000000, 0));
	EXPECT_EQ((Regs{0xd0, 0xd1, 0xd2, 0xd3}), look(t, 0xc0000000, 0));
	// in range but missing: zeros
	EXPECT_EQ((Regs{0, 0, 0, 0}), look(t, 0x5, 0));
}

TEST(CpuidTable, LookupReportsTheEntryThatAnswered)
{
	auto t = table(INTEL0);
	Regs r;
	const kvm_cpuid_entry2 *used = nullptr;
	lookup(t.data(), u32(t.size()), 1, 0, r.data(), &used);
	EXPECT_EQ(&t[1], used);
	lookup(t.data(), u32(t.size()), 0x20, 1, r.data(), &used); // max basic leaf 0xd.1
	EXPECT_EQ(&t[5], used);
	lookup(t.data(), u32(t.size()), 0x5, 0, r.data(), &used); // zeros
	EXPECT_EQ(nullptr, used);
}

TEST(CpuidTable, AmdOutOfRangeIsZero)
{
	for (Regs v : {AMD0, Regs{0xd, 0x6f677948, 0x656e6975, 0x6e65476e},
		       Regs{0xd, 0x69444d41, 0x21726574, 0x74656273}}) {
		auto t = table(v);
		EXPECT_EQ((Regs{0, 0, 0, 0}), look(t, 0x20, 1));
		EXPECT_EQ((Regs{0, 0, 0, 0}), look(t, 0x80000002, 0));
	}
}

TEST(CpuidTable, TopologyLeafKeepsLevelNumberAndX2apicIdForMissingSubleaves)
{
	auto t = table(AMD0);
	EXPECT_EQ((Regs{0, 0, 5, 7}), look(t, 0xb, 0x105));
	// and through the Intel rule to a maximum basic leaf of 0xb
	auto i = table(Regs{0xb, INTEL0[1], INTEL0[2], INTEL0[3]});
	EXPECT_EQ((Regs{0, 0, 9, 7}), look(i, 0x1f, 9));
	// without subleaf 1, nothing
	std::vector<kvm_cpuid_entry2> one = {entry(0xb, 0, true, {1, 1, 0x100, 7})};
	EXPECT_EQ((Regs{0, 0, 0, 0}), look(one, 0xb, 2));
}

TEST(CpuidTable, EmptyTableReadsZero)
{
	std::vector<kvm_cpuid_entry2> none;
	EXPECT_EQ((Regs{0, 0, 0, 0}), look(none, 0, 0));
	EXPECT_EQ((Regs{0, 0, 0, 0}), look(none, 0xb, 3));
}

TEST(CpuidTable, VirtualAddressWidthMustBe48Or57OrAbsent)
{
	for (u32 va : {0u, 48u, 57u, 39u, 64u, 0xffu}) {
		std::vector<kvm_cpuid_entry2> t = {
		    entry(0x80000008, 0, false, {(va << 8) | 46, 0, 0, 0})};
		EXPECT_EQ(va == 0 || va == 48 || va == 57, table_valid(t.data(), 1)) << va;
	}
	EXPECT_TRUE(table_valid(nullptr, 0));
}

TEST(CpuidTable, EqualityIgnoresPaddingOnly)
{
	auto a = table(INTEL0), b = table(INTEL0);
	b[3].padding[1] = 5;
	EXPECT_TRUE(tables_equal(a.data(), u32(a.size()), b.data(), u32(b.size())));
	b[3].flags = 0;
	EXPECT_FALSE(tables_equal(a.data(), u32(a.size()), b.data(), u32(b.size())));
	EXPECT_FALSE(tables_equal(a.data(), u32(a.size()), a.data(), u32(a.size() - 1)));
}

TEST(CpuidTable, RuntimeBitsFollowApicBaseAndCr4)
{
	std::vector<kvm_cpuid_entry2> t = {entry(1, 0, false, {0, 0, 1u << 26, 0}),
					   entry(7, 0, true, {0, 0, 1u << 3, 0})};
	update_runtime(t.data(), 2, (1u << 18) | (1u << 22), 0xfee00900);
	EXPECT_EQ(1u << 9, t[0].edx);
	EXPECT_EQ((1u << 26) | (1u << 27), t[0].ecx);
	EXPECT_EQ((1u << 3) | (1u << 4), t[1].ecx);
	update_runtime(t.data(), 2, 0, 0xfee00100);
	EXPECT_EQ(0u, t[0].edx);
	EXPECT_EQ(1u << 26, t[0].ecx);
	EXPECT_EQ(1u << 3, t[1].ecx);
	// OSXSAVE and OSPKE only where XSAVE and PKU are offered
	t[0].ecx = 0;
	t[1].ecx = 0;
	update_runtime(t.data(), 2, (1u << 18) | (1u << 22), 0);
	EXPECT_EQ(0u, t[0].ecx);
	EXPECT_EQ(0u, t[1].ecx);
}

// A model CPU for enumerate(): max basic 0xb, two cache levels in leaf 4, two topology
// levels in 0xB, 7 with subleaves 0-1, 0x40000000 with one leaf, extended up to 0x8000001d.
void model(u32 fn, u32 idx, u32 r[4])
{
	r[0] = r[1] = r[2] = r[3] = 0;
	switch (fn) {
	case 0:
		r[0] = 0xb;
		break;
	case 4:
		r[0] = idx < 2 ? 0x21 : 0;
		break;
	case 7:
		r[0] = idx == 0 ? 1 : 0;
		r[1] = 0x70 + idx;
		break;
	case 0xb:
		r[2] = idx < 2 ? ((idx + 1) << 8) | idx : idx;
		break;
	case 0x40000000:
		r[0] = 0x40000000;
		break;
	case 0x80000000:
		r[0] = 0x8000001d;
		break;
	case 0x8000001d:
		r[0] = idx < 3 ? 0x21 : 0;
		break;
	default:
		r[0] = fn;
		break;
	}
}

TEST(CpuidTable, EnumerateListsEveryLeafAndSubleafAsKvm)
{
	std::vector<kvm_cpuid_entry2> out(256);
	const u32 n = enumerate(model, out.data(), 256);
	// 0-0xb: 12 leaves, + 2 more in 4 (0, 1, the null 2), + 1 in 7, + 2 in 0xb (0, 1, the
	// invalid 2); 0x40000000: 1; 0x80000000-0x8000001d: 30, + 3 in 0x8000001d.
	EXPECT_EQ(12u + 2 + 1 + 2 + 1 + 30 + 3, n);
	const kvm_cpuid_entry2 *e = find(out.data(), n, 7, 1);
	ASSERT_NE(nullptr, e);
	EXPECT_EQ(0x71u, e->ebx);
	EXPECT_EQ(u32(KVM_CPUID_FLAG_SIGNIFCANT_INDEX), e->flags);
	e = find(out.data(), n, 3, 5);
	ASSERT_NE(nullptr, e);
	EXPECT_EQ(0u, e->flags);
	EXPECT_EQ(0u, e->index);
	EXPECT_EQ(nullptr, find(out.data(), n, 4, 3));
	EXPECT_NE(nullptr, find(out.data(), n, 0xb, 2));
	EXPECT_EQ(nullptr, find(out.data(), n, 0xc, 0));
	EXPECT_NE(nullptr, find(out.data(), n, 0x8000001d, 3));
	EXPECT_TRUE(table_valid(out.data(), n));
}

TEST(CpuidTable, EnumerateCountsBeyondTheBufferForE2big)
{
	std::vector<kvm_cpuid_entry2> all(256), few(5);
	const u32 n = enumerate(model, all.data(), 256);
	EXPECT_EQ(n, enumerate(model, few.data(), 5));
	for (u32 i = 0; i < 5; i++)
		EXPECT_EQ(all[i].function, few[i].function);
	EXPECT_EQ(n, enumerate(model, nullptr, 0));
}

} // namespace
} // namespace dbgkvm::cpuidt
