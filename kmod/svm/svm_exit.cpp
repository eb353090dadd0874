// SPDX-License-Identifier: GPL-2.0
// From an SVM exit code to what it means (APM Vol. 2, Appendix C "SVM Intercept Exit
// Codes"). QEMU's SVM has neither NRIP save nor decode assists, so instruction lengths
// are left to the core's decoder, except for IOIO where EXITINFO2 holds the next RIP.
#include "dbgkvm_glue.h"
#include "debugreg/debugreg.hpp"
#include "rt/x86_defs.hpp"
#include "svm/svm.hpp"

namespace dbgkvm::svm
{

using namespace x86;

ArchExit SvmVcpu::decode_exit()
{
	const VmcbControl &c = vmcb_->control;
	ArchExit e{};
	// The exit code is 64 bits wide, but VMEXIT_INVALID is reported as -1 in the low 32
	// bits alone by some implementations (QEMU): decode the low half, as KVM does.
	const u32 code = u32(c.exit_code);
	e.code = code;

	switch (code) {
	case EXIT_INTR:
	case EXIT_NMI:
	case EXIT_SMI:
		// The host's interrupt was taken when interrupts came back on.
		e.kind = ExitKind::Continue;
		break;
	case EXIT_EXCP_BASE + VEC_DB: {
		// #DB is always intercepted, so a guest cannot loop the CPU on it (CVE-2015-8104).
		// The VMCB DR6 holds this #DB's causes (the guest ran with DR6_ACTIVE_LOW unless
		// it owned the registers); it goes to user space or back to the guest, and never
		// into the guest's DR6 behind its back (seed 001).
		e.kind = ExitKind::DbIntercept;
		e.db_cause = exit_dr6_;
		break;
	}
	case EXIT_EXCP_BASE + VEC_BP:
		// Intercepted only with KVM_GUESTDBG_USE_SW_BP: RIP is at the INT3.
		e.kind = ExitKind::Debug;
		e.debug = debugreg::exit_sw_breakpoint(vmcb_->save.cs.base + vmcb_->save.rip);
		break;
	case EXIT_EXCP_BASE + VEC_MC:
		// Handed to the host's handler at the exit (svm_vcpu.cpp); the guest gets nothing.
		e.kind = ExitKind::Continue;
		break;
	case EXIT_EXCP_BASE + VEC_AC: // the core decides whose it is
		e.kind = ExitKind::AlignCheck;
		e.error = u32(c.exit_info_1);
		break;
	case EXIT_CPUID:
		e.kind = ExitKind::Cpuid;
		break;
	case EXIT_HLT:
		e.kind = ExitKind::Hlt;
		break;
	case EXIT_MSR:
		e.kind = c.exit_info_1 ? ExitKind::Wrmsr : ExitKind::Rdmsr;
		break;
	case EXIT_INVD:
	case EXIT_WBINVD:
		e.kind = ExitKind::Skip;
		break;
	case EXIT_IOIO:
		// EXITINFO1 (APM 15.10.2): direction, string, REP, size, port.
		e.kind = ExitKind::Io;
		e.in = c.exit_info_1 & IOIO_TYPE_IN;
		e.string = c.exit_info_1 & IOIO_STR;
		e.rep = c.exit_info_1 & IOIO_REP;
		e.port = u16(c.exit_info_1 >> IOIO_PORT_SHIFT);
		e.size = u8((c.exit_info_1 >> IOIO_SIZE_SHIFT) & 7); // one-hot 1, 2, 4
		e.next_rip = c.exit_info_2;
		e.next_rip_valid = true;
		break;
	case EXIT_SHUTDOWN:
		// The VMCB is undefined after a shutdown intercept (APM 15.12): start over
		// from the reset state, as KVM does.
		reset();
		e.kind = ExitKind::Shutdown;
		break;
	case EXIT_NPF:
		e.kind = ExitKind::NptFault;
		e.gpa = c.exit_info_2;
		e.error = c.exit_info_1 & (NPT_ERR_PRESENT | NPT_ERR_WRITE | NPT_ERR_FETCH);
		break;
	case EXIT_INVALID:
		e.kind = ExitKind::FailEntry;
		break;
	case EXIT_WRITE_CR4:
		// MOV to CR4 (the only CR intercept). With decode assists EXITINFO1 bit 63 says
		// bits 3:0 name the GPR (APM 15.8.1); QEMU has none: the core decodes.
		e.kind = ExitKind::CrWrite;
		e.cr = 4;
		e.gpr = (c.exit_info_1 & bit(63)) ? u8(c.exit_info_1 & 0xf) : NO_GPR;
		break;
	case EXIT_RDPMC:
		// No virtual PMU: #GP(0), as KVM without one. Never the host's counters.
		queue_exception(VEC_GP, true, 0);
		e.kind = ExitKind::Continue;
		break;
	case EXIT_VMRUN:
	case EXIT_VMMCALL:
	case EXIT_VMLOAD:
	case EXIT_VMSAVE:
	case EXIT_STGI:
	case EXIT_CLGI:
	case EXIT_SKINIT:
	case EXIT_INVLPGA:
	case EXIT_RSM:
	case EXIT_MONITOR:
	case EXIT_MWAIT:
	case EXIT_XSETBV:
		// No nested SVM, no MONITOR/MWAIT, no XSAVE for the guest: #UD.
		queue_exception(VEC_UD, false, 0);
		e.kind = ExitKind::Continue;
		break;
	default:
		if (code >= EXIT_READ_DR0 && code < EXIT_WRITE_DR0 + 16) {
			// MOV DR intercepts. With decode assists EXITINFO1 bit 63 says bits 3:0
			// name the GPR (APM 15.8.1); QEMU has none: the core decodes.
			e.kind = ExitKind::MovDr;
			e.dr = u8(code & 0xf);
			e.dr_write = code >= EXIT_WRITE_DR0;
			e.gpr = (c.exit_info_1 & bit(63)) ? u8(c.exit_info_1 & 0xf) : NO_GPR;
			break;
		}
		e.kind = ExitKind::Unhandled;
		e.suberror = KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON;
		break;
	}
	// With NRIP save, an instruction intercept leaves the next RIP in the VMCB (APM
	// 15.7.1), and the core need not decode; 0 means not saved (as KVM checks).
	if (has_nrips && !e.next_rip_valid && c.next_rip &&
	    (e.kind == ExitKind::Cpuid || e.kind == ExitKind::Hlt || e.kind == ExitKind::Rdmsr ||
	     e.kind == ExitKind::Wrmsr || e.kind == ExitKind::Skip || e.kind == ExitKind::MovDr ||
	     e.kind == ExitKind::CrWrite)) {
		e.next_rip = c.next_rip;
		e.next_rip_valid = true;
	}
	return e;
}

} // namespace dbgkvm::svm
