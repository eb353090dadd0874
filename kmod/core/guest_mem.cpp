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
	return !static_cast<Vm *>(ctx)->read_gpa(gpa, val, sizeof(*val));
}
} // namespace

Errno fetch_insn(Vm &vm, ArchVcpu &arch, u8 buf[15], unsigned *n, u64 *linear)
{
	kvm_sregs s;
	arch.get_sregs(s);
	bool long64 = (s.efer & emulate::kEferLma) && s.cs.l;
	u64 la = s.cs.base + arch.reg(RIP);
	if (!long64)
		la &= 0xffffffff;
	*linear = la;
	*n = 0;
	emulate::PagingState ps{s.cr0, s.cr3, s.cr4, s.efer, false, 0};
	bool user = s.ss.dpl == 3;
	// Page by page: the second page may be unmapped, and the decoder then reports
	// that it needs more bytes.
	while (*n < 15) {
		u64 cur = long64 ? la + *n : (la + *n) & 0xffffffff;
		emulate::WalkResult w = emulate::walk(cur, ps, read_qword, &vm, false, user, true);
		if (w.status != emulate::WalkStatus::Ok)
			break;
		unsigned chunk = min<unsigned>(15 - *n, PAGE_SIZE - (w.gpa & (PAGE_SIZE - 1)));
		if (vm.read_gpa(w.gpa, buf + *n, chunk))
			break;
		*n += chunk;
	}
	return *n ? 0 : -DK_EFAULT;
}

} // namespace dbgkvm
