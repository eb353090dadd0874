// SPDX-License-Identifier: GPL-2.0
// One guest entry, for both vendors: the shape of KVM's vcpu_enter_guest. The core
// decides the order and switches what both vendors switch alike (the guest FPU, the
// debug registers, the tracepoint); the backend does the vendor's part through the
// narrow hooks of ArchVcpu (core/arch.hpp).
#include "core/dr_cpu.hpp"
#include "core/vcpu.hpp"
#include "core/vm.hpp"
#include "dbgkvm_glue.h"
#include "rt/x86_defs.hpp"

namespace dbgkvm
{

namespace
{
// debugreg::EntrySwitch on the real CPU: the physical registers and tracepoints from
// DrCpu, the guest's DR6/DR7 wherever the backend keeps them.
struct CoreDrCpu : DrCpu {
	ArchVcpu &arch;
	void set_guest_dr6(u64 v) { arch.set_guest_dr6(v); }
	void set_guest_dr7(u64 v) { arch.set_guest_dr7(v); }
	u64 guest_dr6() { return arch.guest_dr6(); }
	u64 guest_dr7() { return arch.guest_dr7(); }
	void push(u32 flags) { arch.push_debug(flags); }
};
} // namespace

ArchExit Vcpu::enter_guest()
{
	dk_preempt_disable();
	const int cpu = dk_cpu();
	dk_irq_disable();
	if (!arch_->prepare_entry(cpu)) {
		dk_irq_enable();
		dk_preempt_enable();
		ArchExit e{};
		e.kind = ExitKind::Unhandled;
		e.suberror = KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON;
		e.code = ~u64{0};
		return e;
	}
	has_run_ = true; // KVM_SET_CPUID2 may now only repeat the table
	// The kernel may have used the FPU since the last entry (a softirq, a context
	// switch): the guest's registers come back first.
	dk_guest_fpu_reload();

	CoreDrCpu hw{{vm_.id(), id_, cpu}, *arch_};
	debugreg::EntrySwitch<CoreDrCpu> drs;
	const u32 sdr = dr_.switch_db_regs;
	drs.enter(dr_, arch_->vendor(), knobs(), hw);
	// IA32_TSC_AUX: neither VMRUN nor VM entry switches it, and RDTSCP/RDPID would tell
	// the guest the host's CPU and node. The guest's value goes in for the world
	// switch and the host's comes back (KVM defers the restore to the return to user
	// space; the kernel itself no longer reads TSC_AUX in its entry code).
	const u64 guest_tsc_aux = msrs_.tsc_aux();
	u64 host_tsc_aux = guest_tsc_aux;
	if (dk_host_has_tsc_aux) {
		dk_rdmsr_safe(x86::MSR_TSC_AUX, &host_tsc_aux);
		if (host_tsc_aux != guest_tsc_aux)
			dk_wrmsr_safe(x86::MSR_TSC_AUX, guest_tsc_aux);
	}
	dk_trace_guest_entry(vm_.id(), id_, cpu, sdr);
	// From here to the interrupt window after the exit, the tick charges guest time.
	// The backend's world_switch brackets the switch itself with dk_guest_state_*.
	dk_guest_timing_enter();
	arch_->world_switch();
	payload_valid_ = false; // the queued exception, if any, was injected
	dk_vmscape_after_exit();
	if (host_tsc_aux != guest_tsc_aux)
		dk_wrmsr_safe(x86::MSR_TSC_AUX, host_tsc_aux);
	regs_changed();
	drs.exit(dr_, hw);

	// The host interrupt that ended the guest is taken here, still as guest time.
	dk_guest_timing_exit_irq_on();
	dk_preempt_enable();
	return arch_->complete_exit();
}

} // namespace dbgkvm
