// SPDX-License-Identifier: GPL-2.0
// Fetching the guest's instruction bytes for emulation: CS:RIP -> linear -> the guest's
// own page tables (emulate/paging, a fetch at the guest's CPL) -> the VMM's memory.
#include "core/guest_mem.hpp"
#include "core/vm.hpp"
#include "dbgkvm_glue.h"
#include "emulate/paging.hpp"

namespace dbgkvm
{

namespace
{
bool read_qword(void *ctx, u64 gpa, u64 *val)
{
	return !static_cast<Vm *>(ctx)->read_gpa_u64(gpa, val);
}

// Up to 15 bytes at gpa, inside one page: the aligned qwords that cover them (at most
// three; an aligned qword never crosses a page).
bool read_bytes(Vm &vm, u64 gpa, u8 *dst, unsigned len)
{
	u64 words[3];
	const u64 first = gpa & ~u64{7};
	const unsigned nwords = unsigned(((gpa + len - 1) & ~u64{7}) - first) / 8 + 1;
	for (unsigned i = 0; i < nwords; i++)
		if (vm.read_gpa_u64(first + 8 * i, &words[i]))
			return false;
	__builtin_memcpy(dst, reinterpret_cast<const u8 *>(words) + (gpa & 7), len);
	return true;
}
} // namespace

Errno fetch_insn(Vm &vm, const InsnContext &c, u64 rip, emulate::WalkMemo &memo, u8 buf[15],
		 unsigned *n, u64 *linear)
{
	const bool long64 = c.long64();
	u64 la = c.cs_base + rip;
	if (!long64)
		la &= 0xffffffff;
	*linear = la;
	*n = 0;
	emulate::PagingState ps{c.cr0, c.cr3, c.cr4, c.efer, false, 0};
	const bool user = c.cpl == 3;
	// Page by page: the second page may be unmapped, and the decoder then reports
	// that it needs more bytes.
	while (*n < 15) {
		u64 cur = long64 ? la + *n : (la + *n) & 0xffffffff;
		emulate::WalkResult w = memo.walk(cur, ps, read_qword, &vm, false, user, true);
		if (w.status != emulate::WalkStatus::Ok)
			break;
		unsigned chunk = min<unsigned>(15 - *n, PAGE_SIZE - (w.gpa & (PAGE_SIZE - 1)));
		if (!read_bytes(vm, w.gpa, buf + *n, chunk))
			break;
		*n += chunk;
	}
	return *n ? 0 : -DK_EFAULT;
}

namespace
{
constexpr u64 PTE_A = 1 << 5, PTE_D = 1 << 6;

// The accessed flag of each paging-structure entry the translation used, and the dirty
// flag of the one that maps the page for a write, as the CPU sets them (SDM Vol. 3, 4.8
// "Accessed and Dirty Flags"; KVM's update_accessed_dirty_bits). Each is a compare and
// exchange against the value the walk read. 0: done; 1: an entry changed since (walk
// again); < 0: an error.
int set_accessed_dirty(Vm &vm, const InsnContext &c, const emulate::WalkResult &w, bool write)
{
	const bool entries32 = !(c.cr4 & x86::CR4_PAE);
	// PAE paging's PDPTEs have no accessed flag (SDM Vol. 3, 4.4.1).
	const bool pae_pdpte = (c.cr4 & x86::CR4_PAE) && !(c.efer & x86::EFER_LMA);
	for (unsigned i = pae_pdpte ? 1 : 0; i < w.levels; i++) {
		const u64 bits = write && i == w.levels - 1u ? PTE_A | PTE_D : PTE_A;
		if ((w.entry[i] & bits) == bits)
			continue;
		const int r = vm.cmpxchg_gpa(w.entry_gpa[i], w.entry[i], w.entry[i] | bits,
					     entries32 ? 4 : 8);
		if (r)
			return r;
	}
	return 0;
}
} // namespace

GuestAccess access_guest(Vm &vm, const InsnContext &c, bool rflags_ac, u64 la, u8 *buf,
			 unsigned len, bool write)
{
	const emulate::PagingState ps{c.cr0, c.cr3, c.cr4, c.efer, rflags_ac, 0};
	const bool user = c.cpl == 3;
	// Walks again while another vCPU changes an entry between the walk and the update
	// of its flags; a guest that keeps doing so gets an emulation failure.
	unsigned raced = 0;
	while (len) {
		const emulate::WalkResult w =
		    emulate::walk(la, ps, read_qword, &vm, write, user, false);
		if (w.status == emulate::WalkStatus::PageFault)
			return {GuestAccess::PageFault, w.error_code, la, 0};
		if (w.status != emulate::WalkStatus::Ok) // canonical: checked by the caller
			return {GuestAccess::Error, 0, la, 0};
		const int ad = set_accessed_dirty(vm, c, w, write);
		if (ad > 0 && ++raced < 16)
			continue;
		if (ad)
			return {GuestAccess::Error, 0, la, 0};
		const unsigned chunk = min<unsigned>(len, PAGE_SIZE - (la & (PAGE_SIZE - 1)));
		const Errno r =
		    write ? vm.write_gpa(w.gpa, buf, chunk) : vm.read_gpa(w.gpa, buf, chunk);
		if (r)
			return {r == -DK_ENOENT ? GuestAccess::Mmio : GuestAccess::Error, 0, la,
				w.gpa};
		buf += chunk;
		len -= chunk;
		la += chunk;
		if (!c.long64())
			la &= 0xffffffff;
	}
	return {GuestAccess::Ok, 0, 0, 0};
}

} // namespace dbgkvm
