// SPDX-License-Identifier: GPL-2.0
// Reading guest code: linear address -> guest-physical (the guest's own paging) -> bytes.
#pragma once
#include "core/arch.hpp"
#include "emulate/paging.hpp"

namespace dbgkvm
{
class Vm;

// Fetch up to 15 bytes of the instruction at CS:RIP. *n gets how many bytes could be
// read (fewer at the end of guest memory); *linear the instruction's linear address.
// memo: the vCPU's last code walk (emulate::WalkMemo), reused while its entries hold.
Errno fetch_insn(Vm &vm, const InsnContext &c, u64 rip, emulate::WalkMemo &memo, u8 buf[15],
		 unsigned *n, u64 *linear);

// A data access of the guest (string I/O): len bytes at linear address la, through its
// page tables at its CPL, copied from (read) or to (write) buf. The bytes may span two
// pages; a fault on the second leaves the first done. Slots lock held.
struct GuestAccess {
	enum Result : u8 {
		Ok,
		PageFault, // #PF(error_code) at fault_la
		Mmio,	   // gpa has no slot
		Error,	   // a page-table entry outside guest memory, or the VMM's memory gone
	} result;
	u32 error_code;
	u64 fault_la;
	u64 gpa;
};
GuestAccess access_guest(Vm &vm, const InsnContext &c, bool rflags_ac, u64 la, u8 *buf,
			 unsigned len, bool write);
} // namespace dbgkvm
