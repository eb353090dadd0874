// SPDX-License-Identifier: GPL-2.0
// KVM_RUN: the run loop and the exits that are completed in the kernel or handed to user
// space through struct kvm_run.
#include "core/ac_rules.hpp"
#include "core/cpuid.hpp"
#include "core/cr_rules.hpp"
#include "core/guest_mem.hpp"
#include "core/limits.hpp"
#include "core/vcpu.hpp"
#include "core/vm.hpp"
#include "dbgkvm_glue.h"
#include "emulate/mmio.hpp"
#include "rt/x86_defs.hpp"

namespace dbgkvm
{

void Vcpu::load_gprs(u64 gpr[16])
{
	for (unsigned i = 0; i < 16; i++)
		gpr[i] = reg(static_cast<Reg>(i));
}

void Vcpu::store_gprs(const u64 gpr[16])
{
	for (unsigned i = 0; i < 16; i++)
		set_reg(static_cast<Reg>(i), gpr[i]);
}

// Finish the exit user space just handled (IN data into RAX, an MMIO load into its
// register, INS data into memory) and step over the instruction. 1: go on; 0: an exit
// is filled in (KVM_EXIT_DEBUG for a single-step, or an INS that could not complete).
int Vcpu::complete_pending()
{
	Pending p = pending_;
	pending_ = Pending::None;
	if (p == Pending::None || reg(RIP) != pending_rip_)
		return 1;
	if (p == Pending::StringIo)
		return complete_string_io();
	if (p == Pending::Io && pending_in_) {
		u64 data = 0, rax = reg(RAX);
		__builtin_memcpy(&data, static_cast<u8 *>(pio_page_), pending_size_);
		// IN AL/AX merge into RAX; IN EAX zero-extends (SDM Vol. 1, 3.4.1.1).
		if (pending_size_ == 4)
			rax = data;
		else
			rax = (rax & ~((u64{1} << (pending_size_ * 8)) - 1)) | data;
		set_reg(RAX, rax);
	} else if (p == Pending::Mmio && !run_->mmio.is_write) {
		u64 gpr[16], data = 0;
		load_gprs(gpr);
		__builtin_memcpy(&data, run_->mmio.data, min<u32>(run_->mmio.len, 8));
		emulate::complete_load(pending_insn_, gpr, data);
		store_gprs(gpr);
	}
	return finish_insn(pending_next_rip_);
}

// Fetch and decode the instruction at CS:RIP: the one place every exit that needs the
// instruction goes through. *linear (if given) gets its linear address.
bool Vcpu::decode_current(emulate::Insn *insn, u64 *linear)
{
	InsnContext c;
	arch_->insn_context(c);
	u8 bytes[15];
	unsigned n = 0;
	u64 la = 0;
	Errno r = fetch_insn(vm_, c, reg(RIP), code_walk_, bytes, &n, &la);
	if (linear)
		*linear = la;
	if (r)
		return false;
	bool vm86 = reg(RFLAGS) & x86::RFLAGS_VM;
	auto mode =
	    emulate::cpu_mode(c.cr0 & x86::CR0_PE, vm86, c.efer & x86::EFER_LMA, c.cs_l, c.cs_db);
	*insn = emulate::Insn{};
	return emulate::decode(bytes, n, mode, insn) == emulate::DecodeResult::Ok;
}

// The RIP after the instruction that exited: from the hardware when it says, else from
// decoding the instruction (SVM without NRIP save, as on QEMU).
bool Vcpu::next_rip(const ArchExit &e, u64 *out)
{
	if (e.next_rip_valid) {
		*out = e.next_rip;
		return true;
	}
	emulate::Insn insn;
	if (!decode_current(&insn))
		return false;
	*out = rip_after(insn);
	return true;
}

// The RIP after the decoded instruction at RIP: it wraps at 4 GiB outside 64-bit mode.
u64 Vcpu::rip_after(const emulate::Insn &insn)
{
	u64 rip = reg(RIP) + insn.len;
	return insn.mode == emulate::CpuMode::Long64 ? rip : (rip & 0xffffffff);
}

int Vcpu::skip_and_continue(const ArchExit &e)
{
	u64 rip;
	if (!next_rip(e, &rip))
		return internal_error(KVM_INTERNAL_ERROR_EMULATION, e.code, reg(RIP));
	return finish_insn(rip);
}

int Vcpu::internal_error(u32 suberror, u64 data0, u64 data1)
{
	run_->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run_->internal.suberror = suberror;
	run_->internal.ndata = 2;
	run_->internal.data[0] = data0;
	run_->internal.data[1] = data1;
	return 0;
}

int Vcpu::handle_io(const ArchExit &e)
{
	if (e.string)
		return handle_string_io(e);
	run_->exit_reason = KVM_EXIT_IO;
	run_->io.direction = e.in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run_->io.size = e.size;
	run_->io.port = e.port;
	run_->io.count = 1;
	run_->io.data_offset = PIO_DATA_OFFSET;
	u8 *data = static_cast<u8 *>(pio_page_);
	if (e.in) {
		__builtin_memset(data, 0, 8);
	} else {
		u64 rax = reg(RAX);
		__builtin_memcpy(data, &rax, e.size);
	}
	pending_ = Pending::Io;
	pending_in_ = e.in;
	pending_size_ = e.size;
	pending_rip_ = reg(RIP);
	pending_next_rip_ = e.next_rip;
	return 0;
}

// An access to guest-physical memory that no slot backs: decode the instruction (the
// hardware gives no decode assist on QEMU's SVM) and hand the access to user space.
int Vcpu::handle_mmio(u64 gpa, bool cpu_checked_bps)
{
	int ret;
	if (check_code_breakpoint(&ret, cpu_checked_bps) == EmulCheck::Stop)
		return ret; // the access has not happened; it repeats after the #DB
	u64 linear = 0, rip = reg(RIP);
	emulate::Insn insn;
	if (!decode_current(&insn, &linear))
		return internal_error(KVM_INTERNAL_ERROR_EMULATION, gpa, linear);
	emulate::MemAccess acc = emulate::mem_access(insn);
	if (!acc.valid)
		return internal_error(KVM_INTERNAL_ERROR_EMULATION, gpa, linear);
	if (crosses_page(insn, acc.size, gpa))
		return internal_error(KVM_INTERNAL_ERROR_EMULATION, gpa, linear);

	run_->exit_reason = KVM_EXIT_MMIO;
	run_->mmio.phys_addr = gpa;
	run_->mmio.len = acc.size;
	run_->mmio.is_write = acc.is_write;
	__builtin_memset(run_->mmio.data, 0, sizeof(run_->mmio.data));
	if (acc.is_write) {
		u64 gpr[16];
		load_gprs(gpr);
		u64 v = emulate::store_value(insn, gpr);
		__builtin_memcpy(run_->mmio.data, &v, acc.size);
	}
	pending_insn_ = insn;
	pending_ = Pending::Mmio;
	pending_rip_ = rip;
	pending_next_rip_ = rip_after(insn);
	return 0;
}

// Whether the memory operand of `insn` (an MMIO access of `size` bytes at the exit's `gpa`)
// crosses a page boundary. KVM splits such an access into fragments (the RAM part done in
// the kernel, one KVM_EXIT_MMIO per MMIO fragment, each with its own GPA and length); the
// MOV subset here does not, and would hand user space bytes under the wrong GPA and length
// (a 4-byte read at the last 2 bytes of RAM exited as 4 bytes at the next page; found by
// fuzz_test's compare, seed 0x2): such an access is refused as an emulation failure instead.
//
// The exit's GPA is the access's first byte, unless the access began on the page before
// and faulted where it entered this one, at offset 0 (paging keeps the low 12 bits of an
// address, so the linear address tells). Only that case computes the linear address, and
// only a segment whose base can be non-zero costs a get_sregs: an MMIO exit in long mode
// through DS/ES/SS stays as cheap as before (make bench, mmio_roundtrip).
bool Vcpu::crosses_page(const emulate::Insn &insn, unsigned size, u64 gpa)
{
	const u64 off = gpa & (PAGE_SIZE - 1);
	if (off)
		return off + size > PAGE_SIZE;
	u64 gpr[16];
	load_gprs(gpr);
	u64 la = emulate::effective_address(insn, gpr, reg(RIP));
	const emulate::Seg seg = emulate::effective_segment(insn);
	const bool long64 = insn.mode == emulate::CpuMode::Long64;
	if (!long64 || seg == emulate::Seg::Fs || seg == emulate::Seg::Gs) {
		kvm_sregs s;
		arch_->get_sregs(s);
		const kvm_segment *segs[] = {&s.es, &s.cs, &s.ss, &s.ds, &s.fs, &s.gs};
		la += segs[unsigned(seg)]->base;
		if (!long64)
			la &= 0xffffffff;
	}
	return (la & (PAGE_SIZE - 1)) != 0;
}

int Vcpu::handle_npt_fault(const ArchExit &e)
{
	FaultResult res;
	Errno r = vm_.fault_in(e.gpa, &res);
	if (r)
		return r; // e.g. -EFAULT: the slot's user memory is gone (KVM returns it too)
	if (res == FaultResult::Mapped)
		return 1;
	if (e.error & NPT_ERR_FETCH) // executing from MMIO: nothing to emulate
		return internal_error(KVM_INTERNAL_ERROR_EMULATION, e.gpa, e.error);
	return handle_mmio(e.gpa, e.cpu_checked_bps);
}

int Vcpu::handle_cpuid(const ArchExit &e)
{
	u64 rip;
	if (!next_rip(e, &rip))
		return internal_error(KVM_INTERNAL_ERROR_EMULATION, e.code, reg(RIP));
	u32 regs[4];
	guest_cpuid_insn(static_cast<u32>(reg(RAX)), static_cast<u32>(reg(RCX)), regs);
	set_reg(RAX, regs[0]);
	set_reg(RBX, regs[1]);
	set_reg(RCX, regs[2]);
	set_reg(RDX, regs[3]);
	return finish_insn(rip);
}

// An intercepted MOV to CR4 (SVM: every one; VMX: one that changes a bit of the guest/host
// mask). The guest may not set what its CPUID does not offer (core/cr_rules.hpp). Without
// decode assists the instruction is decoded, and, being emulated, first checked for code
// breakpoints.
int Vcpu::handle_cr_write(const ArchExit &e)
{
	if (e.cr != 4)
		return internal_error(KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, e.code, reg(RIP));
	int ret;
	if (check_code_breakpoint(&ret, false) == EmulCheck::Stop)
		return ret;
	unsigned gpr = e.gpr;
	u64 next = e.next_rip;
	InsnContext c;
	arch_->insn_context(c);
	if (gpr == NO_GPR || !e.next_rip_valid) {
		emulate::Insn insn;
		if (!decode_current(&insn) || insn.op != emulate::Op::MovToCr || insn.reg != 4)
			return internal_error(KVM_INTERNAL_ERROR_EMULATION, e.code, reg(RIP));
		gpr = insn.rm;
		next = rip_after(insn);
	}
	u64 v = reg(static_cast<Reg>(gpr & 15));
	if (!c.long64())
		v &= 0xffffffff; // the operand is 32 bits outside 64-bit mode
	if (!cr::cr4_write_valid(v, c.efer, cr4_reserved())) {
		arch_->queue_exception(x86::VEC_GP, true, 0);
		return 1;
	}
	if (arch_->set_cr4(v))
		return 1; // the guest runs it again, and it completes without an exit
	return finish_insn(next);
}

// An intercepted #AC (always intercepted: CVE-2015-5307). The guest's own alignment
// check goes back to it; a split lock caught by the host's detection goes to the host's
// policy (split_lock_detect=warn: a warning and the guest goes on; fatal: SIGBUS, and
// user space sees KVM_EXIT_EXCEPTION), as in KVM's handle_exception_nmi.
int Vcpu::handle_alignment_check(const ArchExit &e)
{
	InsnContext c;
	arch_->insn_context(c);
	if (exc::ac_is_guests(dk_host_split_lock_detect, c.cpl, c.cr0, reg(RFLAGS))) {
		arch_->queue_exception(x86::VEC_AC, true, u32(e.error));
		return 1;
	}
	if (dk_handle_guest_split_lock(reg(RIP)))
		return 1;
	run_->exit_reason = KVM_EXIT_EXCEPTION;
	run_->ex.exception = x86::VEC_AC;
	run_->ex.error_code = u32(e.error);
	return 0;
}

int Vcpu::handle_exit(const ArchExit &e)
{
	switch (e.kind) {
	case ExitKind::Continue:
		return 1;
	case ExitKind::Io:
		return handle_io(e);
	case ExitKind::NptFault:
		return handle_npt_fault(e);
	case ExitKind::Hlt: {
		// Without an in-kernel irqchip KVM steps over HLT and exits to user space with
		// KVM_EXIT_HLT, which wins over a single-step exit (as in KVM's
		// kvm_emulate_halt); a single-step #DB for the guest stays queued.
		u64 rip;
		if (!next_rip(e, &rip))
			return internal_error(KVM_INTERNAL_ERROR_EMULATION, e.code, reg(RIP));
		finish_insn(rip);
		run_->exit_reason = KVM_EXIT_HLT;
		return 0;
	}
	case ExitKind::MovDr:
		return handle_mov_dr(e);
	case ExitKind::Debug:
		return debug_exit(e.debug);
	case ExitKind::DbIntercept:
		return handle_db_intercept(e);
	case ExitKind::CrWrite:
		return handle_cr_write(e);
	case ExitKind::Skip:
		return skip_and_continue(e);
	case ExitKind::AlignCheck:
		return handle_alignment_check(e);
	case ExitKind::Shutdown:
		reset_after_shutdown();
		run_->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	case ExitKind::FailEntry:
		run_->exit_reason = KVM_EXIT_FAIL_ENTRY;
		run_->fail_entry.hardware_entry_failure_reason = e.code;
		run_->fail_entry.cpu = static_cast<u32>(loaded_cpu_);
		return 0;
	case ExitKind::Cpuid:
		return handle_cpuid(e);
	case ExitKind::Rdmsr:
		return handle_msr(e, false);
	case ExitKind::Wrmsr:
		return handle_msr(e, true);
	case ExitKind::Unhandled:
		return internal_error(e.suberror, e.code, static_cast<u64>(loaded_cpu_));
	}
	return internal_error(KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, e.code, 0);
}

// KVM_RUN. The guest's FPU state is the thread's from here until it returns (KVM's
// kvm_load_guest_fpu/kvm_put_guest_fpu): swapped once per call, not once per entry.
// KVM_CAP_SYNC_REGS (KVM's sync_regs/store_regs): before anything else, KVM_RUN takes the
// register sets user space marked in kvm_dirty_regs from kvm_run->s.regs, as KVM_SET_REGS,
// KVM_SET_SREGS and KVM_SET_VCPU_EVENTS would (-EINVAL if one is refused; those before it
// are taken and their bits cleared); whatever it returns, it leaves the sets marked in
// kvm_valid_regs there, as the GET ioctls would. Each set is copied out of the shared page
// once, then checked and used.
Errno Vcpu::sync_regs()
{
	const u64 dirty = __atomic_load_n(&run_->kvm_dirty_regs, __ATOMIC_RELAXED);
	if (dirty & KVM_SYNC_X86_REGS) {
		kvm_regs r;
		__builtin_memcpy(&r, &run_->s.regs.regs, sizeof(r));
		write_regs(r);
		run_->kvm_dirty_regs &= ~u64{KVM_SYNC_X86_REGS};
	}
	if (dirty & KVM_SYNC_X86_SREGS) {
		kvm_sregs s;
		__builtin_memcpy(&s, &run_->s.regs.sregs, sizeof(s));
		if (write_sregs(s))
			return -DK_EINVAL;
		run_->kvm_dirty_regs &= ~u64{KVM_SYNC_X86_SREGS};
	}
	if (dirty & KVM_SYNC_X86_EVENTS) {
		kvm_vcpu_events e;
		__builtin_memcpy(&e, &run_->s.regs.events, sizeof(e));
		if (write_vcpu_events(e))
			return -DK_EINVAL;
		run_->kvm_dirty_regs &= ~u64{KVM_SYNC_X86_EVENTS};
	}
	return 0;
}

void Vcpu::store_regs()
{
	const u64 valid = __atomic_load_n(&run_->kvm_valid_regs, __ATOMIC_RELAXED);
	if (valid & KVM_SYNC_X86_REGS) {
		kvm_regs r;
		read_regs(&r);
		__builtin_memcpy(&run_->s.regs.regs, &r, sizeof(r));
	}
	if (valid & KVM_SYNC_X86_SREGS) {
		kvm_sregs s;
		read_sregs(&s);
		__builtin_memcpy(&run_->s.regs.sregs, &s, sizeof(s));
	}
	if (valid & KVM_SYNC_X86_EVENTS) {
		kvm_vcpu_events e;
		vcpu_events(vm_.exception_payload(), &e);
		__builtin_memcpy(&run_->s.regs.events, &e, sizeof(e));
	}
}

Errno Vcpu::run()
{
	run_->flags = 0;
	Errno r = -DK_EINVAL;
	if (!(run_->kvm_valid_regs & ~u64{KVM_SYNC_X86_VALID_FIELDS}) &&
	    !(run_->kvm_dirty_regs & ~u64{KVM_SYNC_X86_VALID_FIELDS}))
		r = sync_regs();
	if (!r) {
		if (!complete_pending()) {
			r = 0; // KVM_EXIT_DEBUG: single-step over the completed instruction
		} else if (__atomic_load_n(&run_->immediate_exit, __ATOMIC_RELAXED)) {
			r = -DK_EINTR; // as KVM: at once, exit_reason left as it was
		} else {
			dk_guest_fpu_enter(fpu_);
			r = run_loop();
			dk_guest_fpu_exit(fpu_);
		}
	}
	store_regs();
	return r;
}

// Enter the guest until an exit needs user space (0), or an error (< 0).
int Vcpu::run_loop()
{
	for (;;) {
		if (dk_signal_pending()) {
			run_->exit_reason = KVM_EXIT_INTR;
			return -DK_EINTR;
		}
		dk_cond_resched();
		// The machine reboots: the notifier waits for this ioctl before it turns
		// virtualization off (glue/cpu.c).
		if (__atomic_load_n(&dk_rebooting, __ATOMIC_RELAXED))
			return -DK_EIO;
		vm_.slots_read_lock();
		ArchExit e = enter_guest();
		int h = handle_exit(e);
		vm_.slots_read_unlock();
		if (h <= 0)
			return h;
	}
}

} // namespace dbgkvm
