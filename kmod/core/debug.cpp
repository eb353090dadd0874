// SPDX-License-Identifier: GPL-2.0
// The vCPU's debug-register side: KVM_SET_GUEST_DEBUG, KVM_GET/SET_DEBUGREGS, MOV DR
// intercepts, KVM_EXIT_DEBUG, and the breakpoint checks around every instruction dbgkvm
// emulates or steps over (seeds 004 and 002). The rules are kmod/debugreg's; this file
// applies them to the vCPU and to struct kvm_run.
#include "core/guest_mem.hpp"
#include "core/vcpu.hpp"
#include "core/vm.hpp"
#include "dbgkvm_glue.h"
#include "debugreg/debugreg.hpp"
#include "emulate/gpr.hpp"
#include "rt/x86_defs.hpp"

namespace dbgkvm
{

namespace dr = debugreg;
using namespace x86;

debugreg::Knobs knobs()
{
	debugreg::Knobs k;
	k.no_reload_on_load = dbgkvm_knob_no_reload_on_load;
	k.svm_clobber_guest_dr6 = dbgkvm_knob_svm_clobber_guest_dr6;
	k.skip_code_bp_check = dbgkvm_knob_skip_code_bp_check;
	k.single_cause_on_coincident = dbgkvm_knob_single_cause_on_coincident;
	return k;
}

u64 Vcpu::linear_rip()
{
	return arch_->cs_base() + reg(RIP);
}

dr::GuestCtx Vcpu::guest_ctx()
{
	dr::GuestCtx g;
	g.cpl = arch_->cpl();
	g.cr4_de = arch_->cr4() & CR4_DE;
	g.linear_rip = linear_rip();
	return g; // RTM and bus-lock detection are never offered: DR6 bits 16 and 11 read 1
}

// Queue a #DB for the guest: the payload goes into the guest's DR6 now (KVM delivers it
// when the exception is injected; dbgkvm injects on the next entry, so the same), and
// DR7.GD is cleared.
void Vcpu::queue_db(u64 payload)
{
	arch_->push_debug(dr::deliver_db(dr_, payload));
	if (!arch_->event_pending()) {
		payload_valid_ = payload != 0;
		payload_ = payload;
	}
	arch_->queue_exception(VEC_DB, false, 0);
}

// A #PF found while emulating: the payload goes into CR2 now, as queue_db's into DR6 (KVM
// delivers it when it injects the #PF; dbgkvm injects at the next entry, so the same), and
// KVM_GET_VCPU_EVENTS reports it while the #PF is pending.
void Vcpu::queue_pf(u64 la, u32 error)
{
	if (!arch_->event_pending()) {
		arch_->set_cr2(la);
		payload_valid_ = true;
		payload_ = la;
	}
	arch_->queue_exception(VEC_PF, true, error);
}

int Vcpu::debug_exit(const dr::DebugExit &d)
{
	run_->exit_reason = KVM_EXIT_DEBUG;
	run_->debug.arch.exception = d.exception;
	run_->debug.arch.pc = d.pc;
	run_->debug.arch.dr6 = d.dr6;
	run_->debug.arch.dr7 = d.dr7;
	dk_trace_debug_exit(vm_.id(), id_, loaded_cpu_, dr_.switch_db_regs, d.exception, d.pc,
			    d.dr6, d.dr7);
	return 0;
}

// Before emulating the instruction at RIP: userspace's code breakpoints, then the guest's
// (KVM's kvm_vcpu_check_code_breakpoint, seed 004). Proceed, or exit/re-enter instead.
// `cpu_checked_bps`: the CPU checked the breakpoints it had loaded before the exit (VMX
// after an EPT violation or at a string I/O instruction), and the saved RF may be the
// exit's rather than the guest's. The breakpoints the CPU held were the guest's, unless
// user space debugs with USE_HW_BP; then the guest's breakpoints were not in the CPU and
// only this check sees them (seed 004). RF then counts only for the instruction whose
// code #DB this check just gave the guest: its handler returns with RF = 1, and the
// instruction must run once.
EmulCheck Vcpu::check_code_breakpoint(int *ret, bool cpu_checked_bps)
{
	const u64 rip = linear_rip();
	bool rf = reg(RFLAGS) & RFLAGS_RF;
	if (cpu_checked_bps)
		rf = !dr::guest_debugging_hw(dr_) || rip == code_db_rip_;
	dr::CodeBpResult r =
	    dr::check_code_breakpoint(dr_, rip, rf, arch_->movss_shadow(), knobs());
	switch (r.action) {
	case dr::DbgAction::ExitDebug:
		*ret = debug_exit(r.exit);
		return EmulCheck::Stop;
	case dr::DbgAction::QueueDB:
		queue_db(r.payload);
		code_db_rip_ = rip;
		*ret = 1;
		return EmulCheck::Stop;
	case dr::DbgAction::None:
		break;
	}
	return EmulCheck::Proceed;
}

// An instruction dbgkvm emulated or stepped over is done: move RIP, clear RF, and raise
// the single-step trap the hardware would have (with a coincident code breakpoint on the
// next instruction in the same #DB, seed 002). KVM's kvm_skip_emulated_instruction +
// kvm_vcpu_do_singlestep. Returns 1 to go on, 0 for a KVM_EXIT_DEBUG.
int Vcpu::finish_insn(u64 next_rip)
{
	u64 rflags = reg(RFLAGS);
	bool tf = dr::guest_rflags(dr_, rflags) & RFLAGS_TF;
	if (linear_rip() == code_db_rip_)
		code_db_rip_ = ~u64{0}; // the instruction that took the code #DB is done
	set_reg(RIP, next_rip);
	dr::StepResult r = dr::after_emulated_insn(dr_, {linear_rip(), tf}, knobs());
	if (r.clear_rf && (rflags & RFLAGS_RF))
		set_reg(RFLAGS, rflags & ~RFLAGS_RF);
	switch (r.action) {
	case dr::DbgAction::ExitDebug:
		return debug_exit(r.exit);
	case dr::DbgAction::QueueDB:
		queue_db(r.payload);
		return 1;
	case dr::DbgAction::None:
		break;
	}
	return 1;
}

// An intercepted #DB (always intercepted: CVE-2015-8104). The backend reports what the
// hardware said; the model decides whether it goes to user space (KVM_EXIT_DEBUG) or
// into the guest, with which DR6 (seed 001: never the causes behind the guest's back).
int Vcpu::handle_db_intercept(const ArchExit &e)
{
	const u64 pc = linear_rip();
	dr::DbIntercept r = arch_->vendor() == dr::Vendor::Svm
				? dr::on_db_intercept_svm(dr_, e.db_cause, pc, knobs())
				: dr::on_db_intercept_vmx(dr_, e.db_cause, pc);
	arch_->push_debug(r.push);
	if (r.action == dr::DbAction::ExitDebug)
		return debug_exit(r.exit);
	if (e.db_icebp_len) {
		arch_->push_debug(dr::deliver_db(dr_, r.payload));
		arch_->queue_icebp(e.db_icebp_len);
		return 1;
	}
	queue_db(r.payload);
	return 1;
}

// An intercepted MOV DR. On VMX the exit names the GPR; SVM without decode assists does
// not, so the instruction is decoded (and, being emulated, first checked for code
// breakpoints, as KVM's emulator does).
int Vcpu::handle_mov_dr(const ArchExit &e)
{
	unsigned gpr = e.gpr;
	u64 next;
	const dr::GuestCtx g = guest_ctx();
	if (dr::hands_over_dr_access(dr_, e.dr, g)) {
		// The guest gets its registers and re-executes the MOV natively: no decode, and
		// no code-breakpoint check (the CPU makes it when the instruction runs again).
		arch_->push_debug(dr::on_dr_intercept(dr_, e.dr, e.dr_write, 0, g).push);
		return 1;
	}
	if (gpr == NO_GPR || !e.next_rip_valid) {
		int ret;
		if (check_code_breakpoint(&ret, false) == EmulCheck::Stop)
			return ret;
		emulate::Insn insn{};
		if (!decode_current(&insn) ||
		    (insn.op != emulate::Op::MovToDr && insn.op != emulate::Op::MovFromDr))
			return internal_error(KVM_INTERNAL_ERROR_EMULATION, e.code, reg(RIP));
		gpr = insn.rm;
		next = rip_after(insn);
	} else {
		next = e.next_rip;
	}
	u64 val = e.dr_write ? reg(static_cast<Reg>(gpr & 15)) : 0;
	dr::DrResult r = dr::on_dr_intercept(dr_, e.dr, e.dr_write, val, g);
	arch_->push_debug(r.push);
	switch (r.action) {
	case dr::DrAction::Done:
		if (!e.dr_write) {
			// MOV from DR writes 64 bits in 64-bit mode, else 32 bits zero-extended:
			// the operand size is fixed by the mode (SDM Vol. 2, MOV to/from DR).
			InsnContext c;
			arch_->insn_context(c);
			set_reg(static_cast<Reg>(gpr & 15),
				c.long64() ? r.value : (r.value & 0xffffffff));
		}
		return finish_insn(next);
	case dr::DrAction::InjectUD:
		arch_->queue_exception(VEC_UD, false, 0);
		return 1;
	case dr::DrAction::InjectGP:
		arch_->queue_exception(VEC_GP, true, 0);
		return 1;
	case dr::DrAction::QueueDB:
		queue_db(r.db_payload);
		return 1;
	case dr::DrAction::ExitDebug:
		return debug_exit(r.exit);
	case dr::DrAction::Reenter:
		return 1;
	}
	return 1;
}

Errno Vcpu::set_guest_debug(unsigned long arg)
{
	kvm_guest_debug g;
	if (dk_copy_from_user(&g, arg, sizeof(g)))
		return -DK_EFAULT;
	dr::GuestDebugReq req{};
	req.control = g.control;
	req.pad = g.pad;
	for (int i = 0; i < 8; i++)
		req.debugreg[i] = g.arch.debugreg[i];
	dr::GuestDebugResult r =
	    dr::set_guest_debug(dr_, req, arch_->event_pending(), reg(RFLAGS), linear_rip());
	if (r.err)
		return r.err;
	set_reg(RFLAGS, r.rflags);
	arch_->set_bp_intercept(r.intercept_bp);
	arch_->push_debug(r.push);
	if (r.queue_db)
		queue_db(0);
	if (r.queue_bp)
		arch_->queue_exception(VEC_BP, false, 0);
	return 0;
}

Errno Vcpu::get_debugregs(unsigned long arg)
{
	dr::Debugregs d{};
	dr::get_debugregs(dr_, d);
	kvm_debugregs k{};
	for (int i = 0; i < 4; i++)
		k.db[i] = d.db[i];
	k.dr6 = d.dr6;
	k.dr7 = d.dr7;
	return dk_copy_to_user(arg, &k, sizeof(k)) ? -DK_EFAULT : 0;
}

Errno Vcpu::set_debugregs(unsigned long arg)
{
	kvm_debugregs k;
	if (dk_copy_from_user(&k, arg, sizeof(k)))
		return -DK_EFAULT;
	dr::Debugregs d{};
	for (int i = 0; i < 4; i++)
		d.db[i] = k.db[i];
	d.dr6 = k.dr6;
	d.dr7 = k.dr7;
	d.flags = k.flags;
	for (int i = 0; i < 9; i++)
		d.reserved[i] = k.reserved[i];
	u32 push = 0;
	int r = dr::set_debugregs(dr_, d, &push);
	if (r)
		return r;
	arch_->push_debug(push);
	return 0;
}

} // namespace dbgkvm
