// SPDX-License-Identifier: GPL-2.0
// Fetching the guest's instruction bytes for emulation. The guest just executed (or
// began to execute) this instruction, so its translation exists: the walk only follows
// present entries (SDM Vol. 3, 4.3 32-bit paging, 4.4 PAE paging, 4.5 4-level paging).
#include "core/guest_mem.hpp"
#include "core/vm.hpp"
#include "dbgkvm_glue.h"

namespace dbgkvm {

namespace {
constexpr u64 PTE_P = bit(0), PTE_PS = bit(7);
constexpr u64 ADDR_MASK = 0x000ffffffffff000ULL;

Errno read_entry(Vm &vm, u64 gpa, unsigned size, u64 *e)
{
	*e = 0;
	return vm.read_gpa(gpa, e, size);
}

Errno translate(Vm &vm, const kvm_sregs &s, u64 la, u64 *gpa)
{
	u64 e;
	if (!(s.cr0 & bit(31))) {
		*gpa = (s.efer & bit(10)) ? la : (la & 0xffffffff);
		return 0;
	}
	if (!(s.cr4 & bit(5))) { // 32-bit paging
		la &= 0xffffffff;
		if (read_entry(vm, (s.cr3 & 0xfffff000) + ((la >> 22) & 0x3ff) * 4, 4, &e) ||
		    !(e & PTE_P))
			return -DK_EFAULT;
		if ((e & PTE_PS) && (s.cr4 & bit(4))) {
			// 4 MiB page; PSE-36 puts physical bits 39:32 in PDE bits 20:13.
			*gpa = (e & 0xffc00000) | ((e >> 13) & 0xff) << 32 | (la & 0x3fffff);
			return 0;
		}
		if (read_entry(vm, (e & 0xfffff000) + ((la >> 12) & 0x3ff) * 4, 4, &e) ||
		    !(e & PTE_P))
			return -DK_EFAULT;
		*gpa = (e & 0xfffff000) | (la & 0xfff);
		return 0;
	}
	u64 table;
	int level;
	if (s.efer & bit(10)) { // 4-level
		table = s.cr3 & ADDR_MASK;
		level = 4;
	} else { // PAE: the PDPTE, then two levels
		la &= 0xffffffff;
		if (read_entry(vm, (s.cr3 & 0xffffffe0) + ((la >> 30) & 3) * 8, 8, &e) ||
		    !(e & PTE_P))
			return -DK_EFAULT;
		table = e & ADDR_MASK;
		level = 2;
	}
	for (; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		if (read_entry(vm, table + ((la >> shift) & 0x1ff) * 8, 8, &e) || !(e & PTE_P))
			return -DK_EFAULT;
		if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
			u64 page_mask = (u64{1} << shift) - 1;
			*gpa = (e & ADDR_MASK & ~page_mask) | (la & page_mask);
			return 0;
		}
		table = e & ADDR_MASK;
	}
	return -DK_EFAULT;
}
} // namespace

Errno fetch_insn(Vm &vm, ArchVcpu &arch, u8 buf[15], unsigned *n, u64 *linear)
{
	kvm_sregs s;
	arch.get_sregs(s);
	bool long64 = (s.efer & bit(10)) && s.cs.l;
	u64 la = s.cs.base + arch.reg(RIP);
	if (!long64)
		la &= 0xffffffff;
	*linear = la;
	*n = 0;
	// Byte by byte across a page boundary: the second page may be unmapped, and the
	// decoder then reports that it needs more bytes.
	while (*n < 15) {
		u64 gpa;
		u64 cur = long64 ? la + *n : (la + *n) & 0xffffffff;
		if (translate(vm, s, cur, &gpa))
			break;
		unsigned chunk = min<unsigned>(15 - *n, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		if (vm.read_gpa(gpa, buf + *n, chunk))
			break;
		*n += chunk;
	}
	return *n ? 0 : -DK_EFAULT;
}

} // namespace dbgkvm
