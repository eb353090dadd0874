// SPDX-License-Identifier: GPL-2.0
// The debug-register model (kmod/debugreg) applied to VMX: MOV-DR exiting, GUEST_DR7,
// the hardware DR0-DR3/DR6 around each entry, and what a #DB or #BP exit means.
//
// What VMX switches itself (SDM Vol. 3, 26.3.2.1, 27.3.1, 27.5.1): DR7 and
// IA32_DEBUGCTL, from and to the VMCS ("load/save debug controls"); a VM exit leaves
// the host's DR7 at 0x400. DR0-DR3 and DR6 are not switched at all: the entry plan
// loads them when the guest's values must be live, and the host's come back after
// the exit when the host had breakpoints armed (perf, ptrace).
#include "dbgkvm_glue.h"
#include "debugreg/debugreg.hpp"
#include "rt/x86.hpp"
#include "vmx/vmcs_fields.hpp"
#include "vmx/vmx.hpp"
#include "vmx/vmx_insn.hpp"

namespace dbgkvm::vmx
{

namespace
{
constexpr u32 EXCEPTION_BP = bit(x86::VEC_BP);
} // namespace

void VmxVcpu::push_debug(u32 push)
{
	namespace dr = debugreg;
	if (push & dr::PUSH_DR7)
		vmwrite(GUEST_DR7, dr::effective_dr7(*dr_));
	// PUSH_DR6: the guest's DR6 is the hardware register, loaded by the entry plan while
	// the guest owns the registers (EntryPlan::load_dr6); the VMCS has no DR6.
	if (push & dr::PUSH_DR_INTERCEPT) {
		u32 proc = u32(vmread(CPU_BASED_VM_EXEC_CONTROL));
		u32 want =
		    dr::should_intercept_dr_access(*dr_) ? proc | PROC_MOV_DR : proc & ~PROC_MOV_DR;
		if (want != proc)
			vmwrite(CPU_BASED_VM_EXEC_CONTROL, want);
	}
}

void VmxVcpu::set_bp_intercept(bool on)
{
	u32 bm = u32(vmread(EXCEPTION_BITMAP));
	vmwrite(EXCEPTION_BITMAP, on ? bm | EXCEPTION_BP : bm & ~EXCEPTION_BP);
}

// The guest's DR6 is the physical register: VM entry and exit do not switch it (SDM
// Vol. 3 26.3.2.1, 27.3.1); its DR7 is in the VMCS (GUEST_DR7: "load debug controls" on
// entry, "save debug controls" on exit).
void VmxVcpu::set_guest_dr6(u64 v)
{
	x86::write_dr<6>(v);
}

void VmxVcpu::set_guest_dr7(u64 v)
{
	vmwrite(GUEST_DR7, v);
}

u64 VmxVcpu::guest_dr6()
{
	return x86::read_dr<6>();
}

u64 VmxVcpu::guest_dr7()
{
	return vmread(GUEST_DR7);
}

// #DB always exits (CVE-2015-8104). It does not write DR6: the exit qualification holds
// this #DB's causes, active high (27.1, Table 27-1); the model decides whether it goes
// to user space (KVM_EXIT_DEBUG) or back to the guest, and updates the guest's DR6.
ArchExit VmxVcpu::debug_exception(const ExitInfo &x, u32 type)
{
	ArchExit e{};
	e.code = x.reason;
	e.kind = ExitKind::DbIntercept;
	e.db_cause = x.qual;
	if (type == INTR_TYPE_PRIV_SW_EXCEPTION) // ICEBP (INT1)
		e.db_icebp_len = x.insn_len ? x.insn_len : 1;
	return e;
}

// ICEBP's #DB is a privileged software exception, delivered after the instruction: the
// entry needs its length (SDM Vol. 3 26.6.1.1). An event the exit interrupted goes first.
void VmxVcpu::queue_icebp(u32 insn_len)
{
	if (event_ & INTR_INFO_VALID)
		return;
	event_ = INTR_INFO_VALID | (INTR_TYPE_PRIV_SW_EXCEPTION << INTR_INFO_TYPE_SHIFT) | 1;
	event_len_ = insn_len;
	event_reinjected_ = false;
}

// #BP exits only with KVM_GUESTDBG_USE_SW_BP: RIP is at the INT3 (a software exception
// exits before it is delivered, 27.1).
ArchExit VmxVcpu::breakpoint_exception(const ExitInfo &x)
{
	ArchExit e{};
	e.code = x.reason;
	e.kind = ExitKind::Debug;
	e.debug = debugreg::exit_sw_breakpoint(cs_base() + vmread(GUEST_RIP));
	return e;
}

// MOV to/from DRn (exit qualification: Table 27-4). The core runs the model's rules
// (CPL, CR4.DE, DR7.GD, handing the registers to the guest) and emulates the access.
ArchExit VmxVcpu::mov_dr(const ExitInfo &x)
{
	ArchExit e{};
	e.code = x.reason;
	e.kind = ExitKind::MovDr;
	e.dr = u8(x.qual & 7);
	e.dr_write = !(x.qual & bit(4));
	e.gpr = u8((x.qual >> 8) & 15);
	e.next_rip = next_rip(x);
	e.next_rip_valid = true;
	return e;
}

} // namespace dbgkvm::vmx
