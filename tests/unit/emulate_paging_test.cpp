// SPDX-License-Identifier: GPL-2.0
//
// Page walks over a fake guest memory: every paging mode, page size, the reserved-bit rules and
// the access-right rules (SDM Vol. 3, chapter 4).

#include <gtest/gtest.h>

#include <map>

#include "emulate/paging.hpp"

namespace dbgkvm::emulate
{
namespace
{

constexpr uint64_t P = 1, RW = 2, US = 4, PS = 0x80, XD = 1ull << 63;

// Sparse guest memory of qwords; anything not written reads as zero inside `limit`.
struct FakeMem {
	std::map<uint64_t, uint64_t> q;
	uint64_t limit = 1ull << 40;
	unsigned reads = 0;

	static bool read(void *ctx, uint64_t gpa, uint64_t *val)
	{
		auto *m = static_cast<FakeMem *>(ctx);
		EXPECT_EQ(gpa & 7, 0u);
		m->reads++;
		if (gpa >= m->limit)
			return false;
		const auto it = m->q.find(gpa);
		*val = it == m->q.end() ? 0 : it->second;
		return true;
	}
	void set64(uint64_t gpa, uint64_t v) { q[gpa] = v; }
	void set32(uint64_t gpa, uint32_t v)
	{
		uint64_t &w = q[gpa & ~7ull];
		if (gpa & 4)
			w = (w & 0xffffffffull) | (uint64_t{v} << 32);
		else
			w = (w & ~0xffffffffull) | v;
	}
};

struct Access {
	bool write = false, user = false, fetch = false;
};

WalkResult run(FakeMem &m, const PagingState &ps, uint64_t gva, Access a = {})
{
	return walk(gva, ps, &FakeMem::read, &m, a.write, a.user, a.fetch);
}

// ---------------------------------------------------------------- no paging

TEST(PagingOff, Identity)
{
	FakeMem m;
	PagingState ps{};
	auto r = run(m, ps, 0x12345678);
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x12345678u);
	EXPECT_EQ(m.reads, 0u);
	// Real mode: linear addresses are 32-bit (the caller adds seg << 4)
	r = run(m, ps, 0x1'0010'fff0ull);
	EXPECT_EQ(r.gpa, 0x0010fff0u);
	// PE without PG is still identity
	ps.cr0 = 1;
	EXPECT_EQ(run(m, ps, 0xb8000, {true, true, false}).gpa, 0xb8000u);
}

// ---------------------------------------------------------------- 32-bit paging

struct Bits32 : ::testing::Test {
	FakeMem m;
	PagingState ps{};
	static constexpr uint64_t kPd = 0x1000, kPt = 0x2000;
	void SetUp() override
	{
		ps.cr0 = x86::CR0_PG | 1;
		ps.cr3 = kPd | 0x18; // PWT/PCD ignored
		ps.maxphyaddr = 36;
	}
	// maps gva -> gpa with a 4K page through PDE index gva>>22
	void map4k(uint32_t gva, uint32_t gpa, uint32_t pde_flags, uint32_t pte_flags)
	{
		m.set32(kPd + (gva >> 22) * 4, static_cast<uint32_t>(kPt) | pde_flags);
		m.set32(kPt + ((gva >> 12) & 0x3ff) * 4, gpa | pte_flags);
	}
};

TEST_F(Bits32, FourK)
{
	map4k(0xc0123456, 0x00abc000, P | RW | US, P | RW | US);
	const auto r = run(m, ps, 0xc0123456);
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x00abc456u);
	EXPECT_EQ(r.page_size, 4096u);
	EXPECT_EQ(r.levels, 2);
	EXPECT_EQ(r.entry_gpa[0], kPd + 0x300 * 4);
	EXPECT_EQ(r.entry_gpa[1], kPt + 0x123 * 4);
}

TEST_F(Bits32, OddIndexEntriesUseTheUpperHalfOfAQword)
{
	map4k(0x00401000, 0x5000, P | RW, P | RW); // PDE 1, PTE 1: both in upper halves
	map4k(0x00000000, 0x7000, P | RW, P | RW); // PDE 0 (lower half of the same qword)
	auto r = run(m, ps, 0x00401abc);
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x5abcu);
	r = run(m, ps, 0x00000010);
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x7010u);
}

TEST_F(Bits32, FourMWithPse)
{
	ps.cr4 = x86::CR4_PSE;
	m.set32(kPd + 0x3ff * 4, 0xffc00000u | P | RW | PS);
	auto r = run(m, ps, 0xffc12345);
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0xffc12345u);
	EXPECT_EQ(r.page_size, 4u << 20);
	EXPECT_EQ(r.levels, 1);
	// PSE-36: PDE bits 16:13 are physical bits 35:32
	m.set32(kPd + 1 * 4, 0x00800000u | (0x5u << 13) | P | PS);
	r = run(m, ps, 0x00412345);
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x5'0081'2345ull);
}

TEST_F(Bits32, PsIgnoredWithoutPse)
{
	// without CR4.PSE the PDE points to a page table whatever PS says
	map4k(0x00400000, 0x9000, P | PS, P);
	const auto r = run(m, ps, 0x00400123);
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x9123u);
	EXPECT_EQ(r.page_size, 4096u);
}

TEST_F(Bits32, FourMReservedBits)
{
	ps.cr4 = x86::CR4_PSE;
	m.set32(kPd, (1u << 21) | P | PS); // bit 21 reserved
	auto r = run(m, ps, 0x1000, {true, false, false});
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfPresent | kPfRsvd | kPfWrite);
	// MAXPHYADDR 36: PDE bits 20:17 (physical 39:36) are reserved
	m.set32(kPd, (1u << 17) | P | PS);
	r = run(m, ps, 0x1000);
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfPresent | kPfRsvd);
	ps.maxphyaddr = 40;
	EXPECT_EQ(run(m, ps, 0x1000).status, WalkStatus::Ok);
}

TEST_F(Bits32, NotPresent)
{
	auto r = run(m, ps, 0x1000, {false, true, false});
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfUser);
	map4k(0x1000, 0x1000, P | RW | US, 0);
	r = run(m, ps, 0x1000, {true, true, false});
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfUser | kPfWrite);
	EXPECT_EQ(r.levels, 2);
}

TEST_F(Bits32, NoExecuteDoesNotExistAndIdOnlyWithSmep)
{
	ps.efer = x86::EFER_NXE; // ignored by 32-bit paging
	map4k(0x1000, 0x3000, P | RW | US, P | US);
	EXPECT_EQ(run(m, ps, 0x1000, {false, true, true}).status, WalkStatus::Ok);
	auto r = run(m, ps, 0x5000, {false, false, true});
	EXPECT_EQ(r.error_code, 0u); // no I/D bit without SMEP in 32-bit paging
	ps.cr4 = x86::CR4_SMEP;
	r = run(m, ps, 0x5000, {false, false, true});
	EXPECT_EQ(r.error_code, kPfFetch);
	// SMEP: supervisor fetch from a user page
	r = run(m, ps, 0x1000, {false, false, true});
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfPresent | kPfFetch);
}

TEST_F(Bits32, WriteProtect)
{
	map4k(0x1000, 0x3000, P | RW | US, P | US); // read-only user page
	// supervisor write: allowed with WP = 0, #PF with WP = 1
	EXPECT_EQ(run(m, ps, 0x1000, {true, false, false}).status, WalkStatus::Ok);
	ps.cr0 |= x86::CR0_WP;
	auto r = run(m, ps, 0x1000, {true, false, false});
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfPresent | kPfWrite);
	// user write: always denied
	ps.cr0 &= ~x86::CR0_WP;
	r = run(m, ps, 0x1000, {true, true, false});
	EXPECT_EQ(r.error_code, kPfPresent | kPfWrite | kPfUser);
	// R/W = 0 in the PDE denies too
	map4k(0x1000, 0x3000, P | US, P | RW | US);
	EXPECT_EQ(run(m, ps, 0x1000, {true, true, false}).status, WalkStatus::PageFault);
}

TEST_F(Bits32, UserSupervisor)
{
	map4k(0x1000, 0x3000, P | RW, P | RW | US); // PDE supervisor: the page is supervisor
	auto r = run(m, ps, 0x1000, {false, true, false});
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfPresent | kPfUser);
	EXPECT_EQ(run(m, ps, 0x1000).status, WalkStatus::Ok);
}

TEST_F(Bits32, HighAddressBitsIgnored)
{
	map4k(0x1000, 0x3000, P, P);
	const auto r = run(m, ps, 0xffffffff'00001004ull);
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x3004u);
}

// ---------------------------------------------------------------- PAE

struct Pae : ::testing::Test {
	FakeMem m;
	PagingState ps{};
	static constexpr uint64_t kPdpt = 0x10e0, kPd = 0x4000, kPt = 0x5000;
	void SetUp() override
	{
		ps.cr0 = x86::CR0_PG | x86::CR0_WP | 1;
		ps.cr4 = x86::CR4_PAE;
		ps.cr3 = kPdpt;
		ps.maxphyaddr = 36;
	}
	void map4k(uint32_t gva, uint64_t gpa, uint64_t pde, uint64_t pte)
	{
		m.set64(kPdpt + (gva >> 30) * 8, kPd | P);
		m.set64(kPd + ((gva >> 21) & 0x1ff) * 8, kPt | pde);
		m.set64(kPt + ((gva >> 12) & 0x1ff) * 8, gpa | pte);
	}
};

TEST_F(Pae, FourKAndTwoM)
{
	map4k(0xc0201000, 0xf'ffff'f000ull, P | RW, P | RW);
	auto r = run(m, ps, 0xc0201fff, {true, false, false});
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0xf'ffff'ffffull);
	EXPECT_EQ(r.levels, 3);
	EXPECT_EQ(r.entry_gpa[0], kPdpt + 3 * 8); // 32-byte aligned PDPT at CR3 & ~0x1f
	m.set64(kPd + 2 * 8, 0x00a00000 | P | PS);
	r = run(m, ps, 0xc0412345);
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x00a12345u);
	EXPECT_EQ(r.page_size, 2u << 20);
}

TEST_F(Pae, PdpteHasNoAccessRightsButReservedBits)
{
	map4k(0x1000, 0x3000, P | RW | US, P | RW | US);
	EXPECT_EQ(run(m, ps, 0x1000, {true, true, false}).status, WalkStatus::Ok);
	m.set64(kPdpt, kPd | P | RW); // bit 1 is reserved in a PAE PDPTE
	const auto r = run(m, ps, 0x1000);
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfPresent | kPfRsvd);
	EXPECT_EQ(r.levels, 1);
}

TEST_F(Pae, NoExecute)
{
	map4k(0x1000, 0x3000, P | RW, P | XD);
	// XD without EFER.NXE is a reserved bit
	auto r = run(m, ps, 0x1000);
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfPresent | kPfRsvd);
	ps.efer = x86::EFER_NXE;
	EXPECT_EQ(run(m, ps, 0x1000).status, WalkStatus::Ok);
	r = run(m, ps, 0x1000, {false, false, true});
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfPresent | kPfFetch);
	// XD in the PDE covers the whole table
	map4k(0x1000, 0x3000, P | RW | XD, P);
	EXPECT_EQ(run(m, ps, 0x1000, {false, false, true}).error_code, kPfPresent | kPfFetch);
	// not-present fetch reports I/D with NXE
	EXPECT_EQ(run(m, ps, 0x40000000, {false, false, true}).error_code, kPfFetch);
}

TEST_F(Pae, MaxPhyAddrReserved)
{
	map4k(0x1000, 0x10'0000'0000ull, P, P); // bit 36 with MAXPHYADDR 36
	auto r = run(m, ps, 0x1000);
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfPresent | kPfRsvd);
	ps.maxphyaddr = 52;
	EXPECT_EQ(run(m, ps, 0x1000).gpa, 0x10'0000'0000ull);
}

TEST_F(Pae, TwoMAlignmentBitsReserved)
{
	m.set64(kPdpt, kPd | P);
	m.set64(kPd, 0x00200000 | (1u << 13) | P | PS);
	const auto r = run(m, ps, 0x1234);
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfPresent | kPfRsvd);
	// bit 12 is PAT, not reserved
	m.set64(kPd, 0x00200000 | (1u << 12) | P | PS);
	EXPECT_EQ(run(m, ps, 0x1234).gpa, 0x00201234u);
}

// SDM Vol. 3, 4.4.2, tables 4-8 to 4-11: in PAE entries bits 62:MAXPHYADDR are reserved, with
// MAXPHYADDR 52 too (found by tests/fuzz/fuzz_paging: the walker reserved only 51:MAXPHYADDR,
// the 4-level rule, and followed a PDPTE with bit 52 set; corpus file pae-rsvd-62-52).
TEST_F(Pae, Bits62To52ReservedAtEveryLevel)
{
	ps.maxphyaddr = 52;
	for (int lvl = 0; lvl < 3; lvl++) {
		for (unsigned bit : {52u, 58u, 62u}) {
			map4k(0x1000, 0x9000, P | RW, P | RW);
			const uint64_t addr[] = {kPdpt, kPd, kPt + 8}; // gva 0x1000: PTE 1
			m.set64(addr[lvl], m.q[addr[lvl]] | (1ull << bit));
			const auto r = run(m, ps, 0x1000);
			ASSERT_EQ(r.status, WalkStatus::PageFault) << lvl << " bit " << bit;
			EXPECT_EQ(r.error_code, kPfPresent | kPfRsvd) << lvl << " bit " << bit;
			EXPECT_EQ(r.levels, lvl + 1) << lvl << " bit " << bit;
		}
	}
	// and in a 2-MiB PDE
	m.set64(kPdpt, kPd | P);
	m.set64(kPd, 0x00200000 | (1ull << 55) | P | PS);
	EXPECT_EQ(run(m, ps, 0x1234).error_code, kPfPresent | kPfRsvd);
}

// ---------------------------------------------------------------- 4-level and 5-level

struct Long : ::testing::Test {
	FakeMem m;
	PagingState ps{};
	static constexpr uint64_t kPml4 = 0x1000, kPdpt = 0x2000, kPd = 0x3000, kPt = 0x4000;
	void SetUp() override
	{
		ps.cr0 = x86::CR0_PG | x86::CR0_WP | 1;
		ps.cr4 = x86::CR4_PAE;
		ps.efer = x86::EFER_LMA | x86::EFER_NXE | (1u << 8);
		ps.cr3 = kPml4 | 0x123; // PCID bits ignored
		ps.maxphyaddr = 46;
	}
	void map4k(uint64_t gva, uint64_t gpa, uint64_t upper, uint64_t pte)
	{
		m.set64(kPml4 + ((gva >> 39) & 0x1ff) * 8, kPdpt | upper);
		m.set64(kPdpt + ((gva >> 30) & 0x1ff) * 8, kPd | upper);
		m.set64(kPd + ((gva >> 21) & 0x1ff) * 8, kPt | upper);
		m.set64(kPt + ((gva >> 12) & 0x1ff) * 8, gpa | pte);
	}
};

TEST_F(Long, FourK)
{
	map4k(0xffff'8000'1234'5678ull, 0x3fff'ffff'f000ull, P | RW, P | RW);
	const auto r = run(m, ps, 0xffff'8000'1234'5678ull, {true, false, false});
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x3fff'ffff'f678ull);
	EXPECT_EQ(r.levels, 4);
	EXPECT_EQ(r.entry_gpa[0], kPml4 + 0x100 * 8);
	EXPECT_EQ(r.entry[3], 0x3fff'ffff'f000ull | P | RW);
}

TEST_F(Long, TwoMAndOneG)
{
	m.set64(kPml4, kPdpt | P | RW);
	m.set64(kPdpt, kPd | P | RW);
	m.set64(kPd + 8, 0x4000'0000ull | P | RW | PS);
	auto r = run(m, ps, 0x0030'1234);
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x4010'1234ull);
	EXPECT_EQ(r.page_size, 2u << 20);
	EXPECT_EQ(r.levels, 3);
	m.set64(kPdpt + 8, 0x1'c000'0000ull | P | PS);
	r = run(m, ps, 0x7654'3210);
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x1'f654'3210ull);
	EXPECT_EQ(r.page_size, 1u << 30);
	EXPECT_EQ(r.levels, 2);
	// 1G page with bit 13 set: reserved
	m.set64(kPdpt + 8, 0x1'c000'2000ull | P | PS);
	EXPECT_EQ(run(m, ps, 0x7654'3210).error_code, kPfPresent | kPfRsvd);
}

TEST_F(Long, PsInPml4eIsReserved)
{
	m.set64(kPml4, kPdpt | P | RW | PS);
	const auto r = run(m, ps, 0x1000);
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfPresent | kPfRsvd);
	EXPECT_EQ(r.levels, 1);
}

TEST_F(Long, NonCanonical)
{
	EXPECT_EQ(run(m, ps, 0x0000'8000'0000'0000ull).status, WalkStatus::NonCanonical);
	EXPECT_EQ(run(m, ps, 0xffff'7fff'ffff'ffffull).status, WalkStatus::NonCanonical);
	EXPECT_EQ(run(m, ps, 0x8000'0000'0000'0000ull).status, WalkStatus::NonCanonical);
	EXPECT_EQ(m.reads, 0u);
	// the edges are canonical (and unmapped here)
	EXPECT_EQ(run(m, ps, 0x0000'7fff'ffff'ffffull).status, WalkStatus::PageFault);
	EXPECT_EQ(run(m, ps, 0xffff'8000'0000'0000ull).status, WalkStatus::PageFault);
}

TEST_F(Long, UserSupervisorAccumulates)
{
	// every level but the PML4E says user
	map4k(0x1000, 0x9000, P | RW | US, P | RW | US);
	m.set64(kPml4, kPdpt | P | RW);
	auto r = run(m, ps, 0x1000, {false, true, false});
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfPresent | kPfUser);
	// it is a supervisor page, so SMEP/SMAP do not apply
	ps.cr4 |= x86::CR4_SMEP | x86::CR4_SMAP;
	EXPECT_EQ(run(m, ps, 0x1000, {false, false, true}).status, WalkStatus::Ok);
	EXPECT_EQ(run(m, ps, 0x1000, {true, false, false}).status, WalkStatus::Ok);
}

TEST_F(Long, SmapAndAc)
{
	map4k(0x1000, 0x9000, P | RW | US, P | RW | US);
	ps.cr4 |= x86::CR4_SMAP;
	auto r = run(m, ps, 0x1000);
	ASSERT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, kPfPresent);
	r = run(m, ps, 0x1000, {true, false, false});
	EXPECT_EQ(r.error_code, kPfPresent | kPfWrite);
	ps.rflags_ac = true;
	EXPECT_EQ(run(m, ps, 0x1000, {true, false, false}).status, WalkStatus::Ok);
	// user accesses are not affected
	ps.rflags_ac = false;
	EXPECT_EQ(run(m, ps, 0x1000, {true, true, false}).status, WalkStatus::Ok);
	// SMAP does not cover fetches; SMEP does
	EXPECT_EQ(run(m, ps, 0x1000, {false, false, true}).status, WalkStatus::Ok);
	ps.cr4 |= x86::CR4_SMEP;
	EXPECT_EQ(run(m, ps, 0x1000, {false, false, true}).error_code, kPfPresent | kPfFetch);
}

TEST_F(Long, ReadOnlyAtAnUpperLevel)
{
	map4k(0x1000, 0x9000, P | US | RW, P | RW | US);
	m.set64(kPdpt, kPd | P | US); // R/W = 0 in the PDPTE
	EXPECT_EQ(run(m, ps, 0x1000, {true, true, false}).error_code,
		  kPfPresent | kPfWrite | kPfUser);
	EXPECT_EQ(run(m, ps, 0x1000, {true, false, false}).error_code, kPfPresent | kPfWrite);
	ps.cr0 &= ~x86::CR0_WP;
	EXPECT_EQ(run(m, ps, 0x1000, {true, false, false}).status, WalkStatus::Ok);
}

TEST_F(Long, ReservedAboveMaxPhyAddrAtEveryLevel)
{
	for (int lvl = 0; lvl < 4; lvl++) {
		map4k(0x1000, 0x9000, P | RW, P | RW);
		const uint64_t addr[] = {kPml4, kPdpt, kPd, kPt + 8}; // gva 0x1000: PTE 1
		m.set64(addr[lvl], m.q[addr[lvl]] | (1ull << 46));
		const auto r = run(m, ps, 0x1000);
		ASSERT_EQ(r.status, WalkStatus::PageFault) << lvl;
		EXPECT_EQ(r.error_code, kPfPresent | kPfRsvd) << lvl;
		EXPECT_EQ(r.levels, lvl + 1);
	}
}

// SDM Vol. 3, tables 4-14 to 4-20: the 4-level formats ignore bits 58:52 (and 62:59 without
// protection keys), unlike PAE.
TEST_F(Long, Bits62To52Ignored)
{
	map4k(0x1000, 0x9000, P | RW | (0x7ffull << 52), P | RW | (0x7ffull << 52));
	const auto r = run(m, ps, 0x1000);
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x9000u);
}

TEST_F(Long, XdWithoutNxeIsReserved)
{
	map4k(0x1000, 0x9000, P | RW, P | RW | XD);
	EXPECT_EQ(run(m, ps, 0x1000).status, WalkStatus::Ok);
	EXPECT_EQ(run(m, ps, 0x1000, {false, false, true}).error_code, kPfPresent | kPfFetch);
	ps.efer &= ~x86::EFER_NXE;
	EXPECT_EQ(run(m, ps, 0x1000).error_code, kPfPresent | kPfRsvd);
}

TEST_F(Long, ReadFailure)
{
	m.limit = 0x2000; // the PDPT is outside guest memory
	m.set64(kPml4, kPdpt | P);
	EXPECT_EQ(run(m, ps, 0x1000).status, WalkStatus::ReadFailed);
}

TEST_F(Long, FiveLevel)
{
	ps.cr4 |= x86::CR4_LA57;
	constexpr uint64_t kPml5 = 0x8000;
	ps.cr3 = kPml5;
	const uint64_t gva = 0xff01'0000'0000'1000ull; // PML5 index 0x1fe... canonical at 57 bits
	m.set64(kPml5 + ((gva >> 48) & 0x1ff) * 8, kPml4 | P | RW);
	map4k(gva, 0x7000, P | RW, P | RW);
	auto r = run(m, ps, gva + 0x10);
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x7010u);
	EXPECT_EQ(r.levels, 5);
	// 48-bit canonical is not enough: bit 56 decides
	EXPECT_EQ(run(m, ps, 0x0100'0000'0000'0000ull).status, WalkStatus::NonCanonical);
	EXPECT_EQ(run(m, ps, 0x00ff'0000'0000'0000ull).status, WalkStatus::PageFault);
	// PS in the PML5E and the PML4E is reserved
	m.set64(kPml5 + ((gva >> 48) & 0x1ff) * 8, kPml4 | P | RW | PS);
	EXPECT_EQ(run(m, ps, gva).error_code, kPfPresent | kPfRsvd);
}

// ---------------------------------------------------------------- WalkMemo

WalkResult memo_run(WalkMemo &memo, FakeMem &m, const PagingState &ps, uint64_t gva, Access a = {})
{
	return memo.walk(gva, ps, &FakeMem::read, &m, a.write, a.user, a.fetch);
}

TEST_F(Long, MemoRereadsTheEntriesInsteadOfWalking)
{
	WalkMemo memo;
	map4k(0x7000'1000ull, 0x9000, P | RW, P | RW);
	auto r = memo_run(memo, m, ps, 0x7000'1234ull, {false, false, true});
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x9234u);
	m.reads = 0;
	// The same page at another offset: four reads (the entries), the same translation.
	r = memo_run(memo, m, ps, 0x7000'1ff0ull, {false, false, true});
	ASSERT_EQ(r.status, WalkStatus::Ok);
	EXPECT_EQ(r.gpa, 0x9ff0u);
	EXPECT_EQ(m.reads, 4u);
	const auto plain = run(m, ps, 0x7000'1ff0ull, {false, false, true});
	EXPECT_EQ(r.page_size, plain.page_size);
	EXPECT_EQ(r.levels, plain.levels);
}

TEST_F(Long, MemoSeesAChangedEntryAtAnyLevel)
{
	WalkMemo memo;
	map4k(0x7000'1000ull, 0x9000, P | RW, P | RW);
	ASSERT_EQ(memo_run(memo, m, ps, 0x7000'1000ull).gpa, 0x9000u);
	m.set64(kPt + 1 * 8, 0xa000 | P | RW); // the PTE now maps another page
	EXPECT_EQ(memo_run(memo, m, ps, 0x7000'1000ull).gpa, 0xa000u);
	m.set64(kPd + ((0x7000'1000ull >> 21) & 0x1ff) * 8, 0); // the PDE goes away
	const auto r = memo_run(memo, m, ps, 0x7000'1000ull);
	EXPECT_EQ(r.status, WalkStatus::PageFault);
	EXPECT_EQ(r.error_code, 0u);
}

TEST_F(Long, MemoIsKeyedByPagingStateAccessAndPage)
{
	WalkMemo memo;
	map4k(0x7000'1000ull, 0x9000, P, P); // read-only, supervisor
	ASSERT_EQ(memo_run(memo, m, ps, 0x7000'1000ull).status, WalkStatus::Ok);
	// A write, a user access: the rights decide again (faults).
	EXPECT_EQ(memo_run(memo, m, ps, 0x7000'1000ull, {true, false, false}).status,
		  WalkStatus::PageFault);
	EXPECT_EQ(memo_run(memo, m, ps, 0x7000'1000ull, {false, true, false}).status,
		  WalkStatus::PageFault);
	// Another CR3: another walk (its tables are empty: not present).
	PagingState other = ps;
	other.cr3 = 0x8000;
	EXPECT_EQ(memo_run(memo, m, other, 0x7000'1000ull).status, WalkStatus::PageFault);
	// CR0.WP off: a supervisor write to the read-only page is allowed (SDM 4.6.1).
	PagingState nowp = ps;
	nowp.cr0 &= ~x86::CR0_WP;
	EXPECT_EQ(memo_run(memo, m, nowp, 0x7000'1000ull, {true, false, false}).status,
		  WalkStatus::Ok);
	// The next page is not mapped.
	EXPECT_EQ(memo_run(memo, m, ps, 0x7000'2000ull).status, WalkStatus::PageFault);
}

TEST_F(Bits32, MemoComparesTheEntryHalfOfTheQword)
{
	WalkMemo memo;
	map4k(0x00401000, 0x5000, P | RW, P | RW); // PDE 1, PTE 1: upper halves
	ASSERT_EQ(memo_run(memo, m, ps, 0x00401abc).gpa, 0x5abcu);
	// The lower halves (PDE 0, PTE 0) change: the memo still holds.
	map4k(0x00000000, 0x7000, P | RW, P | RW);
	m.reads = 0;
	EXPECT_EQ(memo_run(memo, m, ps, 0x00401abc).gpa, 0x5abcu);
	EXPECT_EQ(m.reads, 2u);
	// The upper half changes: a fresh walk.
	m.set32(kPt + 1 * 4, 0x6000 | P | RW);
	EXPECT_EQ(memo_run(memo, m, ps, 0x00401abc).gpa, 0x6abcu);
}

TEST(PagingOffMemo, Identity)
{
	FakeMem m;
	WalkMemo memo;
	PagingState ps{};
	ps.cr0 = 1;
	EXPECT_EQ(memo.walk(0x1234'5678, ps, &FakeMem::read, &m, false, false, true).gpa,
		  0x1234'5678u);
	EXPECT_EQ(memo.walk(0x1234'5000, ps, &FakeMem::read, &m, false, false, true).gpa,
		  0x1234'5000u);
	EXPECT_EQ(m.reads, 0u);
}

} // namespace
} // namespace dbgkvm::emulate
