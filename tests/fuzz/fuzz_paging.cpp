// SPDX-License-Identifier: GPL-2.0
// libFuzzer harness: the guest page walker (kmod/emulate/paging.cpp) and its WalkMemo over
// fuzzer-controlled guest memory.
//
// Input: CR0, CR3, CR4, EFER (8 bytes each), a flags byte (bit 0: EFLAGS.AC), MAXPHYADDR (1
// byte, any value), the memory size in 4-KiB pages (2 bytes), then operations until the input
// ends (see run_ops). Guest memory is zero below the size and absent above it; pokes set
// qwords. Reads beyond it fail, which the walker must report as ReadFailed.
//
// Checked for every walk:
//   - agreement with an independent walker written from the SDM tables (paging_reference.hpp):
//     status, error code, gpa, page size, the entries read and where;
//   - the read callback only sees 8-byte aligned addresses and at most one read per level
//     (so no loop, whatever the tables point at);
//   - a translation keeps the page offset; the page size is one the mode has; #PF error codes
//     have only P/W/U/RSVD/I bits, W and U as asked, RSVD only with P, I/D only for fetches;
//   - WalkMemo::walk() returns exactly what a fresh walk returns (it is "exact, not a TLB"),
//     across pokes and paging-state changes.

#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "emulate/paging.hpp"
#include "fuzz_util.hpp"
#include "paging_reference.hpp"

using namespace dbgkvm::emulate;
using dbgkvm::fuzz::Input;
using dbgkvm::fuzz::ref::Memory;
using dbgkvm::fuzz::ref::RefWalk;
namespace x86 = dbgkvm::x86;

namespace
{

constexpr unsigned kMaxOps = 256;

struct Guest {
	Memory mem;
	unsigned reads = 0;

	static bool read(void *ctx, uint64_t gpa, uint64_t *val)
	{
		auto *g = static_cast<Guest *>(ctx);
		FUZZ_CHECK((gpa & 7) == 0);
		g->reads++;
		return g->mem.qword(gpa, val);
	}
};

bool same(const WalkResult &a, const WalkResult &b)
{
	if (a.status != b.status || a.levels != b.levels)
		return false;
	for (unsigned i = 0; i < a.levels && i < 5; i++)
		if (a.entry_gpa[i] != b.entry_gpa[i] || a.entry[i] != b.entry[i])
			return false;
	switch (a.status) {
	case WalkStatus::Ok:
		return a.gpa == b.gpa && a.page_size == b.page_size;
	case WalkStatus::PageFault:
		return a.error_code == b.error_code;
	default:
		return true;
	}
}

void print_walks(uint64_t gva, const PagingState &ps, bool write, bool user, bool fetch,
		 const WalkResult &w, const RefWalk &r)
{
	std::fprintf(stderr,
		     "walk gva=%#" PRIx64 " cr0=%#" PRIx64 " cr3=%#" PRIx64 " cr4=%#" PRIx64
		     " efer=%#" PRIx64 " ac=%d maxphy=%u w=%d u=%d f=%d\n",
		     gva, ps.cr0, ps.cr3, ps.cr4, ps.efer, ps.rflags_ac, ps.maxphyaddr, write, user,
		     fetch);
	std::fprintf(stderr,
		     "  walker:    status=%d ec=%#x gpa=%#" PRIx64 " size=%#" PRIx64 " levels=%u\n",
		     static_cast<int>(w.status), w.error_code, w.gpa, w.page_size, w.levels);
	std::fprintf(stderr,
		     "  reference: status=%d ec=%#x gpa=%#" PRIx64 " size=%#" PRIx64 " levels=%u\n",
		     static_cast<int>(r.status), r.error_code, r.gpa, r.page_size, r.levels);
	for (unsigned i = 0; i < r.levels; i++)
		std::fprintf(stderr, "  entry %u at %#" PRIx64 " = %#" PRIx64 "\n", i,
			     r.entry_gpa[i], r.entry[i]);
}

bool agrees(const WalkResult &w, const RefWalk &r)
{
	if (w.status != r.status || w.levels != r.levels)
		return false;
	for (unsigned i = 0; i < r.levels; i++)
		if (w.entry_gpa[i] != r.entry_gpa[i] || w.entry[i] != r.entry[i])
			return false;
	if (r.status == WalkStatus::Ok)
		return w.gpa == r.gpa && w.page_size == r.page_size;
	if (r.status == WalkStatus::PageFault)
		return w.error_code == r.error_code;
	return true;
}

void check_reference(const WalkResult &w, const RefWalk &r)
{
	FUZZ_CHECK(w.status == r.status);
	FUZZ_CHECK(w.levels == r.levels);
	for (unsigned i = 0; i < r.levels; i++) {
		FUZZ_CHECK(w.entry_gpa[i] == r.entry_gpa[i]);
		FUZZ_CHECK(w.entry[i] == r.entry[i]);
	}
	if (r.status == WalkStatus::Ok) {
		FUZZ_CHECK(w.gpa == r.gpa);
		FUZZ_CHECK(w.page_size == r.page_size);
	}
	if (r.status == WalkStatus::PageFault)
		FUZZ_CHECK(w.error_code == r.error_code);
}

void check_invariants(const WalkResult &w, uint64_t gva, const PagingState &ps, bool write,
		      bool user, bool fetch)
{
	const bool pg = ps.cr0 & x86::CR0_PG, pae = ps.cr4 & x86::CR4_PAE,
		   lma = ps.efer & x86::EFER_LMA;
	const unsigned max_levels = !pg			       ? 0
				    : !pae		       ? 2
				    : !lma		       ? 3
				    : (ps.cr4 & x86::CR4_LA57) ? 5
							       : 4;
	FUZZ_CHECK(w.levels <= max_levels);
	switch (w.status) {
	case WalkStatus::Ok: {
		const uint64_t la = pg && pae && lma ? gva : gva & 0xffffffffull;
		const uint64_t size = w.page_size;
		FUZZ_CHECK(size == 4096 || (size == (2ull << 20) && pae) ||
			   (size == (4ull << 20) && !pae) || (size == (1ull << 30) && lma));
		FUZZ_CHECK((w.gpa & (size - 1)) == (la & (size - 1)));
		if (!pg)
			FUZZ_CHECK(w.gpa == la);
		else
			FUZZ_CHECK(w.levels >= 1);
		// Physical addresses stay below 2^MAXPHYADDR (PSE-36: 2^40; 4-KiB 32-bit: 2^32).
		if (pg && ps.maxphyaddr >= 36 && ps.maxphyaddr <= 52) {
			const unsigned m =
			    !pae ? (ps.maxphyaddr > 40 ? 40 : ps.maxphyaddr) : ps.maxphyaddr;
			FUZZ_CHECK((w.gpa >> m) == 0);
		}
		if (pg && !pae && size == 4096)
			FUZZ_CHECK((w.gpa >> 32) == 0);
		break;
	}
	case WalkStatus::PageFault: {
		const uint32_t ec = w.error_code;
		FUZZ_CHECK((ec & ~0x1fu) == 0);
		FUZZ_CHECK(((ec & kPfWrite) != 0) == write);
		FUZZ_CHECK(((ec & kPfUser) != 0) == user);
		FUZZ_CHECK(!(ec & kPfRsvd) || (ec & kPfPresent));
		FUZZ_CHECK(!(ec & kPfFetch) || fetch);
		FUZZ_CHECK(pg && w.levels >= 1);
		// The last entry read decided: not present exactly when P is clear in the error.
		const uint64_t last = w.entry[w.levels - 1];
		FUZZ_CHECK(((ec & kPfPresent) != 0) == ((last & 1) != 0));
		break;
	}
	case WalkStatus::NonCanonical:
		FUZZ_CHECK(pg && pae && lma && w.levels == 0);
		break;
	case WalkStatus::ReadFailed:
		FUZZ_CHECK(pg);
		break;
	default:
		FUZZ_CHECK(!"unknown WalkStatus");
	}
}

struct Run {
	Guest guest;
	PagingState ps{};
	WalkMemo memo;
	uint64_t last_gva = 0;

	void walk(uint64_t gva, bool write, bool user, bool fetch)
	{
		last_gva = gva;
		guest.reads = 0;
		const WalkResult w =
		    dbgkvm::emulate::walk(gva, ps, &Guest::read, &guest, write, user, fetch);
		// One read per level, and a failed read ends the walk.
		FUZZ_CHECK(guest.reads ==
			   w.levels + (w.status == WalkStatus::ReadFailed ? 1u : 0u));
		check_invariants(w, gva, ps, write, user, fetch);
		const RefWalk r = dbgkvm::fuzz::ref::walk(gva, ps, guest.mem, write, user, fetch);
		if (!agrees(w, r) || dbgkvm::fuzz::tracing())
			print_walks(gva, ps, write, user, fetch, w, r);
		check_reference(w, r);

		guest.reads = 0;
		const WalkResult m = memo.walk(gva, ps, &Guest::read, &guest, write, user, fetch);
		FUZZ_CHECK(guest.reads <= 15); // re-read of a memo (5), then at most two walks
		FUZZ_CHECK(same(m, w));
	}

	void toggle(uint8_t which)
	{
		switch (which % 12) {
		case 0:
			ps.cr0 ^= x86::CR0_PG;
			break;
		case 1:
			ps.cr0 ^= x86::CR0_WP;
			break;
		case 2:
			ps.cr4 ^= x86::CR4_PAE;
			break;
		case 3:
			ps.cr4 ^= x86::CR4_PSE;
			break;
		case 4:
			ps.cr4 ^= x86::CR4_LA57;
			break;
		case 5:
			ps.cr4 ^= x86::CR4_SMEP;
			break;
		case 6:
			ps.cr4 ^= x86::CR4_SMAP;
			break;
		case 7:
			ps.efer ^= x86::EFER_LMA;
			break;
		case 8:
			ps.efer ^= x86::EFER_NXE;
			break;
		case 9:
			ps.rflags_ac = !ps.rflags_ac;
			break;
		case 10:
			ps.maxphyaddr = static_cast<uint8_t>(ps.maxphyaddr + 1);
			break;
		default:
			memo.clear();
			break;
		}
	}

	// Operations, one byte each plus operands; bits 3, 4, 5 of a walk are write, user, fetch:
	//   op & 7 == 0: poke   u32 qword index, u64 value
	//   op & 7 == 1: walk   u64 gva
	//   op & 7 == 2: walk   the last gva XOR u16 (same page or a neighbour: memo hits)
	//   op & 7 == 3: toggle one control bit / MAXPHYADDR / clear the memo (u8)
	//   op & 7 == 4: CR3 := u64
	//   op & 7 >= 5: walk   u64 gva
	void run_ops(Input &in)
	{
		for (unsigned n = 0; n < kMaxOps && !in.empty(); n++) {
			const uint8_t op = in.u8();
			const bool write = op & 8, user = op & 16, fetch = op & 32;
			switch (op & 7) {
			case 0: {
				const uint64_t gpa = static_cast<uint64_t>(in.u32()) * 8;
				guest.mem.q[gpa] = in.u64();
				break;
			}
			case 1:
				walk(in.u64(), write, user, fetch);
				break;
			case 2:
				walk(last_gva ^ in.u16(), write, user, fetch);
				break;
			case 3:
				toggle(in.u8());
				break;
			case 4:
				ps.cr3 = in.u64();
				break;
			default:
				walk(in.u64(), write, user, fetch);
				break;
			}
		}
	}
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Input in(data, size);
	Run run;
	run.ps.cr0 = in.u64();
	run.ps.cr3 = in.u64();
	run.ps.cr4 = in.u64();
	run.ps.efer = in.u64();
	run.ps.rflags_ac = in.u8() & 1;
	run.ps.maxphyaddr = in.u8();
	run.guest.mem.limit = static_cast<uint64_t>(in.u16()) * 4096;
	run.run_ops(in);
	// Whatever the operations were, one walk of the first page with everything as set.
	run.walk(run.last_gva, false, false, false);
	return 0;
}
