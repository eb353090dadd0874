// SPDX-License-Identifier: GPL-2.0
// INS and OUTS: string port I/O, emulated the way KVM's emulator does it (arch/x86/kvm/
// emulate.c em_in/em_out, pio_in_emulated; x86.c emulator_pio_in_out), so user space sees
// the same KVM_EXIT_IO exits:
//
//  - OUTS: one element per exit (io.count = 1), read from DS:rSI (or the override) before
//    the exit; rSI and rCX have moved on when user space sees it.
//  - INS: up to string_batch() elements per exit (io.count = n, at most 1 KiB), written
//    to ES:rDI (no override) when the next KVM_RUN completes the exit; rDI and rCX move
//    then.
//  - RIP stays on the instruction until it is done (no REP, or rCX = 0 at the address
//    size): an unfinished REP instruction re-executes and exits again, so a single-step
//    trap comes once, after the last element (finish_insn), not after each batch.
//
// The memory operand goes through the guest's segments and page tables: a segment or
// canonical violation raises #GP(0) (#SS(0) through SS), a page fault #PF with CR2, and
// the elements done before the fault stay done (rSI/rDI and rCX count them), as for any
// REP string instruction interrupted by an exception (SDM Vol. 2, "REP"). An operand in
// memory no slot backs (MMIO) ends in KVM_EXIT_INTERNAL_ERROR (emulation).
#include "core/guest_mem.hpp"
#include "core/limits.hpp"
#include "core/vcpu.hpp"
#include "core/vm.hpp"
#include "dbgkvm_glue.h"
#include "emulate/io.hpp"
#include "rt/x86_defs.hpp"

namespace dbgkvm
{

namespace
{
emulate::SegDesc seg_desc(const kvm_sregs &s, emulate::Seg seg)
{
	const kvm_segment *segs[] = {&s.es, &s.cs, &s.ss, &s.ds, &s.fs, &s.gs};
	const kvm_segment &k = *segs[unsigned(seg)];
	return {k.base, k.limit, k.type, k.present && !k.unusable, bool(k.db)};
}
} // namespace

// Element i of the string operand of `insn`, from (OUTS) or to (INS) buf. Ok; Exception:
// a fault is queued for the guest; Failed: KVM_EXIT_INTERNAL_ERROR is filled in.
Vcpu::StrResult Vcpu::string_element(const emulate::Insn &insn, const StrEnv &env, unsigned i,
				     u8 *buf)
{
	const bool write = insn.op == emulate::Op::Ins;
	const u64 reg = this->reg(write ? RDI : RSI);
	const u64 ea = emulate::string_offset(insn, reg, env.df, i);
	const emulate::Seg seg = emulate::string_segment(insn);
	const unsigned va_bits = env.ctx.cr4 & x86::CR4_LA57 ? 57 : 48;
	const emulate::SegCheck sc = emulate::linearize(seg_desc(env.sregs, seg), seg, insn.mode,
							ea, insn.opsize, write, va_bits);
	if (sc.fault != emulate::SegFault::None) {
		arch_->queue_exception(
		    sc.fault == emulate::SegFault::Ss ? x86::VEC_SS : x86::VEC_GP, true, 0);
		return StrResult::Exception;
	}
	const GuestAccess a =
	    access_guest(vm_, env.ctx, env.rflags_ac, sc.linear, buf, insn.opsize, write);
	switch (a.result) {
	case GuestAccess::Ok:
		return StrResult::Ok;
	case GuestAccess::PageFault:
		queue_pf(a.fault_la, a.error_code);
		return StrResult::Exception;
	case GuestAccess::Mmio: // KVM exits with KVM_EXIT_MMIO here; not emulated (README)
	case GuestAccess::Error:
		break;
	}
	internal_error(KVM_INTERNAL_ERROR_EMULATION, a.gpa, sc.linear);
	return StrResult::Failed;
}

void Vcpu::string_env(StrEnv &env)
{
	arch_->insn_context(env.ctx);
	arch_->get_sregs(env.sregs);
	const u64 rflags = reg(RFLAGS);
	env.df = rflags & x86::RFLAGS_DF;
	env.rflags_ac = rflags & x86::RFLAGS_AC;
}

// Store rSI/rDI and rCX after n elements.
void Vcpu::advance_string_regs(const emulate::Insn &insn, bool df, unsigned n)
{
	u64 gpr[16];
	load_gprs(gpr);
	emulate::string_advance(insn, gpr, df, n);
	set_reg(RSI, gpr[RSI]);
	set_reg(RDI, gpr[RDI]);
	set_reg(RCX, gpr[RCX]);
}

// An INS/OUTS exit (SVM IOIO or VMX I/O instruction with the string bit). The exit gave
// the port, size and direction; the instruction itself gives the address size and the
// segment, so it is decoded, and being emulated, first checked for code breakpoints
// (KVM's io_interception hands it to kvm_emulate_instruction, which does the same).
int Vcpu::handle_string_io(const ArchExit &e)
{
	int ret;
	if (check_code_breakpoint(&ret, e.cpu_checked_bps) == EmulCheck::Stop)
		return ret;
	emulate::Insn insn;
	u64 linear = 0;
	if (!decode_current(&insn, &linear) ||
	    insn.op != (e.in ? emulate::Op::Ins : emulate::Op::Outs) || insn.opsize != e.size)
		return internal_error(KVM_INTERNAL_ERROR_EMULATION, e.code, linear);
	u64 gpr[16];
	load_gprs(gpr);
	if (!emulate::string_count(insn, gpr))
		return finish_insn(rip_after(insn)); // REP with rCX = 0: nothing to move

	const bool df = reg(RFLAGS) & x86::RFLAGS_DF;
	const unsigned n = emulate::string_batch(insn, gpr, df);
	u8 *data = static_cast<u8 *>(pio_page_);
	if (insn.op == emulate::Op::Outs) {
		StrEnv env;
		string_env(env);
		const StrResult r = string_element(insn, env, 0, data); // slots lock held
		if (r != StrResult::Ok)
			return r == StrResult::Exception ? 1 : 0;
		advance_string_regs(insn, df, 1);
	} else {
		__builtin_memset(data, 0, n * insn.opsize); // written at the next KVM_RUN
	}
	run_->exit_reason = KVM_EXIT_IO;
	run_->io.direction = e.in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run_->io.size = e.size;
	run_->io.port = e.port;
	run_->io.count = n;
	run_->io.data_offset = PIO_DATA_OFFSET;
	pending_ = Pending::StringIo;
	pending_insn_ = insn;
	pending_count_ = n;
	pending_rip_ = reg(RIP);
	pending_next_rip_ = rip_after(insn);
	return 0;
}

// The next KVM_RUN after an INS/OUTS exit: INS writes what user space put in the PIO
// page; then the instruction is done, or (REP, rCX not 0) the guest re-executes it for
// the next batch. 1: enter the guest; 0: an exit is filled in.
int Vcpu::complete_string_io()
{
	const emulate::Insn &insn = pending_insn_;
	if (insn.op == emulate::Op::Ins) {
		StrEnv env;
		string_env(env);
		const u8 *data = static_cast<const u8 *>(pio_page_);
		u8 elem[4];
		unsigned done = 0;
		StrResult r = StrResult::Ok;
		vm_.slots_read_lock(); // KVM_RUN takes it only around each guest entry
		for (; done < pending_count_ && r == StrResult::Ok; done++) {
			__builtin_memcpy(elem, data + done * insn.opsize, insn.opsize);
			r = string_element(insn, env, done, elem);
		}
		vm_.slots_read_unlock();
		if (r != StrResult::Ok)
			done--; // the element that faulted is not done
		advance_string_regs(insn, env.df, done);
		if (r != StrResult::Ok)
			return r == StrResult::Exception ? 1 : 0;
	}
	u64 gpr[16];
	load_gprs(gpr);
	if (insn.rep != emulate::Rep::None && emulate::string_count(insn, gpr))
		return 1; // RIP stays: the next batch
	return finish_insn(pending_next_rip_);
}

} // namespace dbgkvm
