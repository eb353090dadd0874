// SPDX-License-Identifier: GPL-2.0
//
// SDM Vol. 3: 4.3 (32-bit paging), 4.4 (PAE), 4.5 (4-level and 5-level), 4.6 (access rights),
// 4.7 (page-fault error code).

#include "paging.hpp"

namespace dbgkvm::emulate
{

namespace
{

// Entry bits common to all formats.
constexpr uint64_t kP = 1ull << 0;
constexpr uint64_t kRw = 1ull << 1;
constexpr uint64_t kUs = 1ull << 2;
constexpr uint64_t kPs = 1ull << 7;
constexpr uint64_t kXd = 1ull << 63;

constexpr uint64_t kAddr52 = 0x000ffffffffff000ull; // bits 51:12

constexpr uint64_t bits(unsigned hi, unsigned lo)
{
	return ((hi >= 63 ? ~0ull : (1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

enum class Format : uint8_t {
	Bits32,
	Pae,
	Level4,
	Level5,
};

struct Walker {
	const PagingState &ps;
	ReadPhysFn read;
	void *ctx;
	WalkResult res;
	unsigned maxphy;
	bool nxe;

	// Bits 51:MAXPHYADDR are reserved in every 64-bit-format entry (4.4.2, 4.5.4).
	uint64_t phys_rsvd() const { return maxphy >= 52 ? 0 : bits(51, maxphy); }
	// PAE entries have no ignored high bits: 62:MAXPHYADDR are reserved (4.4.2, tables 4-8
	// to 4-11; bit 63 of a PDPTE too). Only the 4-level/5-level formats ignore 58:52 and
	// hold protection keys in 62:59 (tables 4-14 to 4-20).
	uint64_t pae_rsvd() const { return phys_rsvd() | bits(62, 52); }

	bool read_entry(uint64_t gpa, unsigned size, uint64_t *val)
	{
		uint64_t q;
		if (!read(ctx, gpa & ~7ull, &q))
			return false;
		if (size == 4)
			q = (gpa & 4) ? q >> 32 : q & 0xffffffffull;
		*val = q;
		if (res.levels < 5) {
			res.entry_gpa[res.levels] = gpa;
			res.entry[res.levels] = q;
		}
		res.levels++;
		return true;
	}
};

} // namespace

WalkResult walk(uint64_t gva, const PagingState &ps, ReadPhysFn read_qword, void *ctx, bool write,
		bool user, bool fetch)
{
	Walker w{ps,
		 read_qword,
		 ctx,
		 {},
		 ps.maxphyaddr ? ps.maxphyaddr : 52u,
		 (ps.efer & x86::EFER_NXE) != 0};
	WalkResult &res = w.res;
	res.status = WalkStatus::Ok;

	if (!(ps.cr0 & x86::CR0_PG)) {
		res.gpa = gva & 0xffffffffull;
		res.page_size = 4096;
		return res;
	}

	Format fmt;
	if (!(ps.cr4 & x86::CR4_PAE))
		fmt = Format::Bits32;
	else if (!(ps.efer & x86::EFER_LMA))
		fmt = Format::Pae;
	else if (ps.cr4 & x86::CR4_LA57)
		fmt = Format::Level5;
	else
		fmt = Format::Level4;

	// XD exists only in the 64-bit formats with EFER.NXE (4.6.2).
	const bool nx = fmt != Format::Bits32 && w.nxe;

	// The error code's I/D bit: set for fetches when XD or SMEP could apply (4.7).
	uint32_t ec = (write ? kPfWrite : 0) | (user ? kPfUser : 0);
	if (fetch && (nx || (ps.cr4 & x86::CR4_SMEP)))
		ec |= kPfFetch;
	auto fault = [&](uint32_t bits_) {
		res.status = WalkStatus::PageFault;
		res.error_code = ec | bits_;
		return res;
	};

	if (fmt == Format::Level4 || fmt == Format::Level5) {
		// Canonical: bits 63:47 (63:56 with LA57) are copies of bit 47 (56) (3.3.7.1).
		const unsigned top = fmt == Format::Level5 ? 56 : 47;
		const uint64_t upper = gva >> top;
		if (upper != 0 && upper != (~0ull >> top)) {
			res.status = WalkStatus::NonCanonical;
			return res;
		}
	} else {
		gva &= 0xffffffffull;
	}

	// Level geometry, top first.
	unsigned shifts[5];
	unsigned nlevels;
	unsigned entry_size = 8;
	uint64_t table;
	switch (fmt) {
	case Format::Bits32:
		shifts[0] = 22;
		shifts[1] = 12;
		nlevels = 2;
		entry_size = 4;
		table = ps.cr3 & 0xfffff000ull;
		break;
	case Format::Pae:
		shifts[0] = 30;
		shifts[1] = 21;
		shifts[2] = 12;
		nlevels = 3;
		table = ps.cr3 & 0xffffffe0ull; // 32-byte aligned PDPT (4.4.1)
		break;
	case Format::Level4:
	case Format::Level5:
	default:
		nlevels = fmt == Format::Level5 ? 5 : 4;
		for (unsigned i = 0; i < nlevels; i++)
			shifts[i] = 12 + 9 * (nlevels - 1 - i);
		table = ps.cr3 & kAddr52 & ~w.phys_rsvd();
		break;
	}

	bool rw = true, us = true, xd = false;
	uint64_t entry = 0;
	unsigned leaf_shift = 12;
	for (unsigned lvl = 0; lvl < nlevels; lvl++) {
		const unsigned shift = shifts[lvl];
		const unsigned idx_bits = fmt == Format::Bits32		     ? 10
					  : (fmt == Format::Pae && lvl == 0) ? 2
									     : 9;
		const uint64_t idx = (gva >> shift) & ((1ull << idx_bits) - 1);
		if (!w.read_entry(table + idx * entry_size, entry_size, &entry)) {
			res.status = WalkStatus::ReadFailed;
			return res;
		}
		if (!(entry & kP))
			return fault(0);

		const bool last = lvl == nlevels - 1;
		const bool pae_pdpte = fmt == Format::Pae && lvl == 0;
		uint64_t rsvd = 0;
		bool large = false;
		if (fmt == Format::Bits32) {
			// 4.3: PS in a PDE maps 4 MiB only with CR4.PSE; bits 20:13 hold physical
			// address bits 39:32 (PSE-36) and bit 21 is reserved.
			large = !last && (entry & kPs) && (ps.cr4 & x86::CR4_PSE);
			if (large) {
				const unsigned hi = w.maxphy >= 40  ? 40
						    : w.maxphy < 32 ? 32
								    : w.maxphy;
				rsvd = bits(21, 21) | (hi < 40 ? bits(20, 13 + (hi - 32)) : 0);
			}
		} else {
			rsvd = fmt == Format::Pae ? w.pae_rsvd() : w.phys_rsvd();
			if (!nx)
				rsvd |= kXd;
			if (pae_pdpte) {
				// 4.4.1, table 4-8: bits 2:1, 8:5 and 63 are reserved in a PDPTE.
				rsvd |= bits(2, 1) | bits(8, 5) | kXd;
			} else if (!last) {
				const unsigned levels_below = nlevels - 1 - lvl;
				if (levels_below >= 3) {
					rsvd |= kPs; // PML4E / PML5E (4.5.4)
				} else if (entry & kPs) {
					// 1 GiB (PDPTE) or 2 MiB (PDE): address bits below the page
					// size, above the PAT bit 12, are reserved.
					large = true;
					rsvd |= bits(shift - 1, 13);
				}
			}
		}
		if (entry & rsvd)
			return fault(kPfPresent | kPfRsvd);

		// PAE PDPTEs carry no access rights (4.4.1).
		if (!pae_pdpte) {
			rw = rw && (entry & kRw);
			us = us && (entry & kUs);
			xd = xd || (nx && (entry & kXd));
		}
		if (large || last) {
			leaf_shift = shift;
			break;
		}
		table = fmt == Format::Bits32 ? (entry & 0xfffff000ull) : (entry & kAddr52);
	}

	// Access rights, 4.6.1.
	const bool wp = ps.cr0 & x86::CR0_WP;
	bool denied;
	if (user) {
		denied = !us || (write && !rw) || (fetch && xd);
	} else if (fetch) {
		denied = xd || (us && (ps.cr4 & x86::CR4_SMEP));
	} else {
		denied = (us && (ps.cr4 & x86::CR4_SMAP) && !ps.rflags_ac) || (write && !rw && wp);
	}
	if (denied)
		return fault(kPfPresent);

	const uint64_t page_mask = (1ull << leaf_shift) - 1;
	uint64_t frame;
	if (fmt == Format::Bits32) {
		frame = entry & 0xfffff000ull;
		if (leaf_shift == 22)
			frame = (entry & 0xffc00000ull) | (((entry >> 13) & 0xffull) << 32);
	} else {
		frame = entry & kAddr52;
	}
	res.gpa = (frame & ~page_mask) | (gva & page_mask);
	res.page_size = 1ull << leaf_shift;
	return res;
}

bool WalkMemo::same_entries(ReadPhysFn read_qword, void *ctx) const
{
	for (unsigned i = 0; i < res_.levels && i < 5; i++) {
		uint64_t q;
		if (!read_qword(ctx, res_.entry_gpa[i] & ~7ull, &q))
			return false;
		if (entries32_)
			q = (res_.entry_gpa[i] & 4) ? q >> 32 : q & 0xffffffffull;
		if (q != res_.entry[i])
			return false;
	}
	return true;
}

WalkResult WalkMemo::walk(uint64_t gva, const PagingState &ps, ReadPhysFn read_qword, void *ctx,
			  bool write, bool user, bool fetch)
{
	const uint8_t access = uint8_t(write | user << 1 | fetch << 2);
	if (valid_ && gva >> 12 == page_ && access == access_ && ps.cr0 == ps_.cr0 &&
	    ps.cr3 == ps_.cr3 && ps.cr4 == ps_.cr4 && ps.efer == ps_.efer &&
	    ps.rflags_ac == ps_.rflags_ac && ps.maxphyaddr == ps_.maxphyaddr &&
	    same_entries(read_qword, ctx)) {
		WalkResult r = res_;
		r.gpa += gva & 0xfff;
		return r;
	}
	valid_ = false;
	WalkResult r = emulate::walk(gva & ~0xfffull, ps, read_qword, ctx, write, user, fetch);
	if (r.status != WalkStatus::Ok)
		return emulate::walk(gva, ps, read_qword, ctx, write, user, fetch);
	valid_ = true;
	entries32_ = (ps.cr0 & x86::CR0_PG) && !(ps.cr4 & x86::CR4_PAE);
	access_ = access;
	page_ = gva >> 12;
	ps_ = ps;
	res_ = r;
	r.gpa += gva & 0xfff;
	return r;
}

} // namespace dbgkvm::emulate
