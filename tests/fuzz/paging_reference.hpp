// SPDX-License-Identifier: GPL-2.0
// A second page walker for fuzz_paging.cpp to compare against, written per paging mode from the
// entry-format tables of the Intel SDM Vol. 3, chapter 4: 4.3 (tables 4-4 to 4-6, 32-bit),
// 4.4 (tables 4-8 to 4-11, PAE), 4.5 (tables 4-15 to 4-20, 4-level and 5-level), 4.6 (access
// rights) and 4.7 (error code). Same scope as paging.hpp: no protection keys, no A/D updates,
// PDPTEs read at walk time, 1-GByte pages supported, CR3 bits above MAXPHYADDR ignored.
// Guest memory is a sparse map of qwords, zero below `limit` and absent from `limit` on.

#ifndef DBGKVM_TESTS_FUZZ_PAGING_REFERENCE_HPP
#define DBGKVM_TESTS_FUZZ_PAGING_REFERENCE_HPP

#include <cstdint>
#include <map>

#include "emulate/paging.hpp"

namespace dbgkvm::fuzz::ref
{

using emulate::PagingState;
using emulate::WalkStatus;

struct Memory {
	uint64_t limit = 0;		// bytes [0, limit) exist
	std::map<uint64_t, uint64_t> q; // qword-aligned address -> value (absent: 0)

	bool qword(uint64_t gpa, uint64_t *v) const
	{
		if (gpa >= limit)
			return false;
		const auto it = q.find(gpa);
		*v = it == q.end() ? 0 : it->second;
		return true;
	}
};

struct RefWalk {
	WalkStatus status;
	uint32_t error_code;
	uint64_t gpa;
	uint64_t page_size;
	unsigned levels;
	uint64_t entry_gpa[5];
	uint64_t entry[5];
};

// Bits hi..lo set (hi >= lo).
constexpr uint64_t field(unsigned hi, unsigned lo)
{
	return (hi == 63 ? ~0ull : (2ull << hi) - 1) & ~((1ull << lo) - 1);
}

class Walker
{
public:
	Walker(const Memory &mem, const PagingState &ps, bool write, bool user, bool fetch)
	    : mem_(mem), ps_(ps), write_(write), user_(user), fetch_(fetch)
	{
		m_ = ps.maxphyaddr == 0 || ps.maxphyaddr > 52 ? 52 : ps.maxphyaddr;
	}

	RefWalk run(uint64_t gva)
	{
		r_ = RefWalk{};
		if (!(ps_.cr0 & x86::CR0_PG)) {
			// No paging: linear = physical, 32 bits.
			r_.status = WalkStatus::Ok;
			r_.gpa = gva & 0xffffffffull;
			r_.page_size = 4096;
			return r_;
		}
		if (!(ps_.cr4 & x86::CR4_PAE))
			return bits32(gva & 0xffffffffull);
		if (!(ps_.efer & x86::EFER_LMA))
			return pae(gva & 0xffffffffull);
		return long_mode(gva, (ps_.cr4 & x86::CR4_LA57) ? 5 : 4);
	}

private:
	// XD is an access right only with PAE-format entries and IA32_EFER.NXE.
	bool nx_enabled(bool pae_format) const { return pae_format && (ps_.efer & x86::EFER_NXE); }

	// 4.7: P, W/R, U/S, RSVD, I/D.
	RefWalk fault(bool present, bool rsvd, bool pae_format)
	{
		uint32_t ec = 0;
		if (present || rsvd)
			ec |= 1;
		if (write_)
			ec |= 2;
		if (user_)
			ec |= 4;
		if (rsvd)
			ec |= 8;
		// I/D: an instruction fetch with CR4.SMEP = 1, or with CR4.PAE = 1 and NXE = 1.
		if (fetch_ && ((ps_.cr4 & x86::CR4_SMEP) || nx_enabled(pae_format)))
			ec |= 16;
		r_.status = WalkStatus::PageFault;
		r_.error_code = ec;
		return r_;
	}

	bool read64(uint64_t gpa, uint64_t *v)
	{
		if (!mem_.qword(gpa, v))
			return false;
		record(gpa, *v);
		return true;
	}
	bool read32(uint64_t gpa, uint64_t *v)
	{
		uint64_t q;
		if (!mem_.qword(gpa & ~7ull, &q))
			return false;
		*v = (gpa & 4) ? q >> 32 : q & 0xffffffffull;
		record(gpa, *v);
		return true;
	}
	void record(uint64_t gpa, uint64_t v)
	{
		r_.entry_gpa[r_.levels] = gpa;
		r_.entry[r_.levels] = v;
		r_.levels++;
	}

	// 4.6.1. rw/us: AND over the levels; xd: OR over the levels (only with NXE).
	bool allowed(bool rw, bool us, bool xd) const
	{
		const bool smep = ps_.cr4 & x86::CR4_SMEP, smap = ps_.cr4 & x86::CR4_SMAP;
		const bool wp = ps_.cr0 & x86::CR0_WP;
		if (user_) {
			if (!us)
				return false;
			if (write_ && !rw)
				return false;
			if (fetch_ && xd)
				return false;
			return true;
		}
		if (fetch_) {
			if (xd)
				return false;
			if (us && smep)
				return false;
			return true;
		}
		if (us && smap && !ps_.rflags_ac)
			return false; // explicit supervisor access to a user page
		if (write_ && !rw && wp)
			return false;
		return true;
	}

	RefWalk done(uint64_t gpa, uint64_t size, bool rw, bool us, bool xd, bool pae_format)
	{
		if (!allowed(rw, us, xd))
			return fault(true, false, pae_format);
		r_.status = WalkStatus::Ok;
		r_.gpa = gpa;
		r_.page_size = size;
		return r_;
	}

	RefWalk read_failed()
	{
		r_.status = WalkStatus::ReadFailed;
		return r_;
	}

	// 4.3: 32-bit paging. Tables 4-4 (4-MByte PDE), 4-5 (PDE -> PT), 4-6 (PTE).
	RefWalk bits32(uint64_t la)
	{
		uint64_t pde, pte;
		if (!read32((ps_.cr3 & 0xfffff000ull) | ((la >> 22) << 2), &pde))
			return read_failed();
		if (!(pde & 1))
			return fault(false, false, false);
		if ((ps_.cr4 & x86::CR4_PSE) && (pde & 0x80)) {
			// PSE-36: PDE bits (M-20):13 are physical address bits (M-1):32, with M
			// at most 40; bits 21:(M-19) are reserved.
			const unsigned m = m_ < 32 ? 32 : m_ > 40 ? 40 : m_;
			if (pde & field(21, m - 19))
				return fault(true, true, false);
			const uint64_t high = (pde >> 13) & ((1ull << (m - 32)) - 1);
			const uint64_t base = (pde & 0xffc00000ull) | (high << 32);
			return done(base | (la & 0x3fffff), 4ull << 20, pde & 2, pde & 4, false,
				    false);
		}
		if (!read32((pde & 0xfffff000ull) | (((la >> 12) & 0x3ff) << 2), &pte))
			return read_failed();
		if (!(pte & 1))
			return fault(false, false, false);
		return done((pte & 0xfffff000ull) | (la & 0xfff), 4096, pde & pte & 2,
			    pde & pte & 4, false, false);
	}

	// 4.4: PAE paging. Table 4-8: PDPTE bits 63:M, 8:5 and 2:1 reserved. Tables 4-9 to 4-11:
	// bits 62:M reserved, bit 63 reserved unless NXE, bits 20:13 of a 2-MByte PDE reserved.
	RefWalk pae(uint64_t la)
	{
		const bool nxe = nx_enabled(true);
		const uint64_t rsvd = field(62, m_) | (nxe ? 0 : 1ull << 63);
		const uint64_t addr = field(m_ - 1, 12);
		uint64_t pdpte, pde, pte;
		if (!read64((ps_.cr3 & 0xffffffe0ull) + ((la >> 30) & 3) * 8, &pdpte))
			return read_failed();
		if (!(pdpte & 1))
			return fault(false, false, true);
		if (pdpte & (field(63, m_) | field(8, 5) | field(2, 1)))
			return fault(true, true, true);
		if (!read64((pdpte & addr) + ((la >> 21) & 511) * 8, &pde))
			return read_failed();
		if (!(pde & 1))
			return fault(false, false, true);
		bool xd = nxe && (pde >> 63);
		if (pde & 0x80) {
			if (pde & (rsvd | field(20, 13)))
				return fault(true, true, true);
			return done((pde & field(m_ - 1, 21)) | (la & 0x1fffff), 2ull << 20,
				    pde & 2, pde & 4, xd, true);
		}
		if (pde & rsvd)
			return fault(true, true, true);
		if (!read64((pde & addr) + ((la >> 12) & 511) * 8, &pte))
			return read_failed();
		if (!(pte & 1))
			return fault(false, false, true);
		if (pte & rsvd)
			return fault(true, true, true);
		xd = xd || (nxe && (pte >> 63));
		return done((pte & addr) | (la & 0xfff), 4096, pde & pte & 2, pde & pte & 4, xd,
			    true);
	}

	// 4.5: 4-level and 5-level paging. Bits 51:M reserved in every entry, bit 63 unless NXE;
	// PS is reserved in PML5Es and PML4Es (tables 4-14, 4-15); bits 29:13 of a 1-GByte PDPTE
	// and 20:13 of a 2-MByte PDE are reserved (tables 4-16, 4-18).
	RefWalk long_mode(uint64_t la, unsigned levels)
	{
		// 4.5.1 / 3.3.7.1: canonical addresses only.
		const unsigned width = levels == 5 ? 57 : 48;
		const int64_t sext =
		    static_cast<int64_t>(la << (64 - width)) >> (64 - width); // sign-extend
		if (static_cast<uint64_t>(sext) != la) {
			r_.status = WalkStatus::NonCanonical;
			return r_;
		}
		const bool nxe = nx_enabled(true);
		const uint64_t rsvd = field(51, m_) | (nxe ? 0 : 1ull << 63);
		const uint64_t addr = field(m_ - 1, 12);
		uint64_t table = ps_.cr3 & addr;
		bool rw = true, us = true, xd = false;
		for (unsigned level = levels; level >= 1; level--) {
			const unsigned shift = 12 + 9 * (level - 1);
			uint64_t e;
			if (!read64(table + ((la >> shift) & 511) * 8, &e))
				return read_failed();
			if (!(e & 1))
				return fault(false, false, true);
			uint64_t bad = rsvd;
			const bool ps = e & 0x80;
			if (level >= 4 && ps)
				bad |= 0x80;
			const bool leaf = level == 1 || (ps && (level == 2 || level == 3));
			if (leaf && level > 1)
				bad |= field(shift - 1, 13);
			if (e & bad)
				return fault(true, true, true);
			rw = rw && (e & 2);
			us = us && (e & 4);
			xd = xd || (nxe && (e >> 63));
			if (leaf) {
				const uint64_t page = 1ull << shift;
				return done((e & addr & ~(page - 1)) | (la & (page - 1)), page, rw,
					    us, xd, true);
			}
			table = e & addr;
		}
		return r_; // not reached: level 1 is always a leaf
	}

	const Memory &mem_;
	const PagingState &ps_;
	bool write_, user_, fetch_;
	unsigned m_;
	RefWalk r_{};
};

inline RefWalk walk(uint64_t gva, const PagingState &ps, const Memory &mem, bool write, bool user,
		    bool fetch)
{
	return Walker(mem, ps, write, user, fetch).run(gva);
}

} // namespace dbgkvm::fuzz::ref

#endif // DBGKVM_TESTS_FUZZ_PAGING_REFERENCE_HPP
