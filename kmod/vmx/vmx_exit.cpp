// SPDX-License-Identifier: GPL-2.0
// From a VMX exit reason to what it means (SDM Vol. 3, 27.2 "Recording VM-Exit
// Information", Appendix C). VMX reports the length of the instruction that exited
// (27.2.5), so every instruction exit gives the core its next RIP.
#include "core/cr_rules.hpp"
#include "dbgkvm_glue.h"
#include "rt/x86_defs.hpp"
#include "vmx/vmcs_fields.hpp"
#include "vmx/vmx.hpp"
#include "vmx/vmx_insn.hpp"

namespace dbgkvm::vmx
{

using namespace x86;

namespace
{

// I/O exit qualification (Table 27-5).
constexpr u64 IO_SIZE_MASK = 7, IO_IN = bit(3), IO_STRING = bit(4), IO_REP = bit(5);
// EPT violation exit qualification (Table 27-7): the access, and what the entry allowed.
constexpr u64 EPT_WRITE = bit(1), EPT_FETCH = bit(2), EPT_PERMS = bit(3) | bit(4) | bit(5);

ArchExit unhandled(u64 code)
{
	ArchExit e{};
	e.kind = ExitKind::Unhandled;
	e.code = code;
	e.suberror = KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON;
	return e;
}

ArchExit cont(u64 code)
{
	ArchExit e{};
	e.kind = ExitKind::Continue;
	e.code = code;
	return e;
}
} // namespace

u64 VmxVcpu::next_rip(const ExitInfo &x)
{
	u64 rip = vmread(GUEST_RIP) + x.insn_len;
	return guest_64bit() ? rip : rip & 0xffffffff;
}

ArchExit VmxVcpu::decode_exit(const ExitInfo &x)
{
	ArchExit e{};
	e.code = x.reason;
	if (x.vmfail || (x.reason & EXIT_REASON_FAILED_ENTRY)) {
		// VMfailValid: the VM-instruction error number; a failed entry after the
		// guest-state checks (26.7-26.8): the exit reason with bit 31. KVM reports
		// both as KVM_EXIT_FAIL_ENTRY.
		e.kind = ExitKind::FailEntry;
		return e;
	}
	switch (x.reason & 0xffff) {
	case EXIT_EXCEPTION_NMI:
		return handle_exception(x);
	case EXIT_EXTERNAL_INTERRUPT:
	case EXIT_PREEMPTION_TIMER:
	case EXIT_INIT:
	case EXIT_IO_SMI:
	case EXIT_OTHER_SMI:
		// The host's interrupt was taken when interrupts came back on.
		return cont(x.reason);
	case EXIT_TRIPLE_FAULT:
		// Start over from the reset state, as KVM does (handle_triple_fault).
		do_reset();
		e.kind = ExitKind::Shutdown;
		return e;
	case EXIT_CPUID:
		e.kind = ExitKind::Cpuid;
		break;
	case EXIT_HLT:
		e.kind = ExitKind::Hlt;
		break;
	case EXIT_MSR_READ:
		e.kind = ExitKind::Rdmsr;
		break;
	case EXIT_MSR_WRITE:
		e.kind = ExitKind::Wrmsr;
		break;
	case EXIT_INVD:
	case EXIT_WBINVD:
		e.kind = ExitKind::Skip;
		break;
	case EXIT_IO_INSTRUCTION:
		e.kind = ExitKind::Io;
		e.in = x.qual & IO_IN;
		e.string = x.qual & IO_STRING;
		e.rep = x.qual & IO_REP;
		e.port = u16(x.qual >> 16);
		e.size = u8((x.qual & IO_SIZE_MASK) + 1); // 0, 1, 3: 1, 2, 4 bytes
		// An I/O instruction's exit comes after its instruction-breakpoint check (a
		// fault before the instruction, SDM Vol. 3 26.1 and 18.3.1.1), so the core
		// need not trust RF for the breakpoints the CPU held. Bochs 2.7 clears RF when
		// a REP string instruction starts, so the guest's #DB handler's RF = 1 is lost
		// before the exit, and the core's check would give the guest its code #DB
		// again, forever (strio_test guest_code_bp_on_rep_outs_under_userspace_hw_bp).
		e.cpu_checked_bps = e.string;
		break;
	case EXIT_CR_ACCESS:
		return handle_cr(x);
	case EXIT_DR_ACCESS:
		return mov_dr(x);
	case EXIT_EPT_VIOLATION:
		// An EPT violation outside event delivery saves RFLAGS.RF = 1 (SDM Vol. 3,
		// 27.3.3): the instruction has passed its instruction-breakpoint check. Bochs
		// 2.7 saves RF = 0 instead, and the core's check before emulating the access
		// would then hit the guest's breakpoint again, forever (the guest's #DB
		// handler sets RF, the store faults again). Set RF as the hardware does, and
		// tell the core that this RF is the exit's: it then checks the guest's code
		// breakpoints anyway, once per instruction (seed 004).
		if (!(x.idt_info & INTR_INFO_VALID)) {
			u64 rflags = vmread(GUEST_RFLAGS);
			if (!(rflags & RFLAGS_RF))
				vmwrite(GUEST_RFLAGS, rflags | RFLAGS_RF);
			e.cpu_checked_bps = true;
		}
		e.kind = ExitKind::NptFault;
		e.gpa = x.gpa;
		e.error = ((x.qual & EPT_PERMS) ? u64{NPT_ERR_PRESENT} : 0) |
			  ((x.qual & EPT_WRITE) ? u64{NPT_ERR_WRITE} : 0) |
			  ((x.qual & EPT_FETCH) ? u64{NPT_ERR_FETCH} : 0);
		return e;
	case EXIT_GETSEC:
	case EXIT_VMCALL:
	case EXIT_VMCLEAR:
	case EXIT_VMLAUNCH:
	case EXIT_VMPTRLD:
	case EXIT_VMPTRST:
	case EXIT_VMREAD:
	case EXIT_VMRESUME:
	case EXIT_VMWRITE:
	case EXIT_VMXOFF:
	case EXIT_VMXON:
	case EXIT_INVEPT:
	case EXIT_INVVPID:
	case EXIT_VMFUNC:
	case EXIT_INVPCID:
	case EXIT_MONITOR:
	case EXIT_MWAIT:
	case EXIT_XSETBV:
		// No nested VMX, no MONITOR/MWAIT, no XSAVE for the guest: #UD (as on SVM).
		queue_exception(VEC_UD, false, 0);
		return cont(x.reason);
	case EXIT_RDPMC:
		// No virtual PMU: #GP(0), as KVM without one. Never the host's counters.
		queue_exception(VEC_GP, true, 0);
		return cont(x.reason);
	default: // EPT misconfiguration, task switch, ...
		return unhandled(x.reason);
	}
	e.next_rip = next_rip(x);
	e.next_rip_valid = true;
	return e;
}

// Exceptions in the exception bitmap (#DB, #AC, #BP while user space debugs with
// software breakpoints) and NMIs (already re-raised in run()).
ArchExit VmxVcpu::handle_exception(const ExitInfo &x)
{
	if (!(x.intr_info & INTR_INFO_VALID))
		return unhandled(x.reason);
	u32 type = (x.intr_info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	u8 vector = x.intr_info & INTR_INFO_VECTOR_MASK;
	if (type == INTR_TYPE_NMI)
		return cont(x.reason);
	if (vector == VEC_DB)
		return debug_exception(x, type);
	if (vector == VEC_BP)
		return breakpoint_exception(x);
	if (vector == VEC_MC)
		return cont(x.reason); // handed to the host's handler at the exit (vmx_entry.cpp)
	if (vector == VEC_AC) {	       // the core decides whose it is
		ArchExit e{};
		e.kind = ExitKind::AlignCheck;
		e.code = x.reason;
		e.error = x.intr_error;
		return e;
	}
	return unhandled(x.reason);
}

// Control-register accesses (exit qualification: Table 27-3). They exit only when the
// guest writes a CR0/CR4 bit that VMX fixes with a value that differs from the read
// shadow (25.1.3), or touches CR8 (no TPR shadow: the TPR is virtual), or CR3 when the
// processor forces CR3 exiting (no TRUE controls).
ArchExit VmxVcpu::handle_cr(const ExitInfo &x)
{
	const unsigned cr = x.qual & 15, access = (x.qual >> 4) & 3;
	const Reg gpr = static_cast<Reg>((x.qual >> 8) & 15);
	const bool long64 = guest_64bit();
	if (access == 0) { // MOV to CR
		u64 v = reg(gpr);
		if (!long64)
			v &= 0xffffffff;
		switch (cr) {
		case 0:
			// Only the read shadow differs: make it the new value and let the guest
			// run the instruction again. It then does not exit, and the processor
			// does the rest itself (PE/PG, EFER.LMA, PDPTEs...). NE stays 1 inside.
			if (v >> 32 || ((v & CR0_PG) && !(v & CR0_PE)) ||
			    ((v & CR0_NW) && !(v & CR0_CD))) {
				queue_exception(VEC_GP, true, 0);
				return cont(x.reason);
			}
			vmwrite(CR0_READ_SHADOW, v);
			return cont(x.reason);
		case 4: {
			// The core checks it against the vCPU's CPUID (core/cr_rules.hpp: PKE,
			// VMXE, OSXSAVE, and SMEP/SMAP/FSGSBASE where the table lacks them; every
			// bit VMX fixes is among them) and completes it through set_cr4.
			ArchExit e{};
			e.code = x.reason;
			e.kind = ExitKind::CrWrite;
			e.cr = 4;
			e.gpr = u8(gpr);
			e.next_rip = next_rip(x);
			e.next_rip_valid = true;
			return e;
		}
		case 3:
			vmwrite(GUEST_CR3, v);
			flushed_cpu_ = -1;
			break;
		case 8:
			if (v >> 4) {
				queue_exception(VEC_GP, true, 0);
				return cont(x.reason);
			}
			cr8_ = v;
			break;
		default:
			return unhandled(x.reason);
		}
	} else if (access == 1) { // MOV from CR
		if (cr == 3)
			set_reg(gpr, vmread(GUEST_CR3));
		else if (cr == 8)
			set_reg(gpr, cr8_);
		else
			return unhandled(x.reason);
	} else {
		return unhandled(x.reason); // CLTS, LMSW: never exit with these masks
	}
	// Done: the core steps over it (finish_insn), with its single-step trap.
	ArchExit e{};
	e.code = x.reason;
	e.kind = ExitKind::Skip;
	e.next_rip = next_rip(x);
	e.next_rip_valid = true;
	return e;
}

} // namespace dbgkvm::vmx
