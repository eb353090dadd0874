// SPDX-License-Identifier: GPL-2.0
// The VMX entry path: events to inject, the per-entry host state and MSR switch around
// VMLAUNCH/VMRESUME, and the exit information read back.
#include "dbgkvm_glue.h"
#include "rt/x86.hpp"
#include "vmx/vmcs_fields.hpp"
#include "vmx/vmx.hpp"
#include "vmx/vmx_insn.hpp"

namespace dbgkvm::vmx
{

using namespace x86;

void VmxVcpu::set_efer(u64 efer)
{
	vmwrite(GUEST_IA32_EFER, efer);
	u32 entry = u32(vmread(VM_ENTRY_CONTROLS));
	u32 want = (efer & EFER_LMA) ? entry | ENTRY_IA32E : entry & ~ENTRY_IA32E;
	if (want != entry)
		vmwrite(VM_ENTRY_CONTROLS, want);
}

events::ArchEvent VmxVcpu::event()
{
	return {event_, event_err_, event_reinjected_};
}

void VmxVcpu::load_event(const events::ArchEvent &e)
{
	event_ = e.info;
	event_err_ = e.error;
	event_len_ = 0;
	event_reinjected_ = e.reinjected;
}

// An event whose delivery the exit interrupted (IDT-vectoring information, 27.2.4) is
// injected again at the next entry, software interrupts and exceptions with the
// instruction length the exit reported (as KVM's __vmx_complete_interrupts).
void VmxVcpu::save_idt_vectoring(const ExitInfo &x)
{
	if (!(x.idt_info & INTR_INFO_VALID))
		return;
	event_ = x.idt_info & ~INTR_INFO_NMI_UNBLOCK;
	event_err_ = x.idt_error;
	event_len_ = x.insn_len;
	event_reinjected_ = true;
}

bool VmxVcpu::event_pending()
{
	return event_ & INTR_INFO_VALID;
}

// PE is the guest's own bit in CR0 (unrestricted guest: not in the guest/host mask).
bool VmxVcpu::protected_mode()
{
	return vmread(GUEST_CR0) & CR0_PE;
}

bool VmxVcpu::prepare_entry(int cpu)
{
	PerCpu &pc = *percpu(unsigned(cpu));
	if (!pc.on || cpu_ != cpu || pc.current_vmcs != vmcs_pa_)
		return false;
	if (flushed_cpu_ != cpu || tlb_gen_ != vm_.tlb_gen) {
		// A new CPU may hold stale translations of this EPTP from an earlier visit,
		// and dropped EPT mappings must go from the TLBs (28.3.3.4).
		flush_ept(vm_.ept.eptp());
		flushed_cpu_ = cpu;
		tlb_gen_ = vm_.tlb_gen;
	}
	vmwrite(VM_ENTRY_INTR_INFO, event_);
	if (event_ & INTR_INFO_ERROR_VALID)
		vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, event_err_);
	u32 type = (event_ & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	if ((event_ & INTR_INFO_VALID) && type >= INTR_TYPE_SOFT_INTR)
		vmwrite(VM_ENTRY_INSTRUCTION_LEN, event_len_);
	return true;
}

void VmxVcpu::world_switch()
{
	PerCpu &pc = *percpu(unsigned(cpu_));

	// Host state that changes per task or per entry.
	dk_vmx_host h;
	dk_vmx_host_save(&h);
	vmwrite(HOST_CR3, read_cr3());
	vmwrite(HOST_CR4, read_cr4());
	vmwrite(HOST_FS_SELECTOR, (h.fs & 7) ? 0 : h.fs);
	vmwrite(HOST_GS_SELECTOR, (h.gs & 7) ? 0 : h.gs);
	vmwrite(HOST_FS_BASE, h.fs_base);
	vmwrite(HOST_GS_BASE, h.gs_base);

	// The SYSCALL MSRs and KERNEL_GS_BASE are not in the VMCS: the guest's values are
	// in the registers from here to the exit, with interrupts off (vmx_msr.cpp).
	dk_wrmsr_safe(MSR_STAR, star_);
	dk_wrmsr_safe(MSR_LSTAR, lstar_);
	dk_wrmsr_safe(MSR_CSTAR, cstar_);
	dk_wrmsr_safe(MSR_SFMASK, sfmask_);
	dk_wrmsr_safe(MSR_KERNEL_GS_BASE, kernel_gs_base_);
	if (read_cr2() != cr2_)
		write_cr2(cr2_);
	// A VM exit clears IA32_DEBUGCTL (SDM Vol. 3, 27.5.1); the guest's comes from the
	// VMCS. The host's (BTF for ptrace's block stepping, LBR, bus-lock detection) is
	// restored after the exit, as KVM does.
	u64 host_debugctl = 0;
	dk_rdmsr_safe(MSR_DEBUGCTL, &host_debugctl);

	dk_guest_state_enter();
	dk_l1d_flush(); // L1TF (glue/mitigations.c); MDS & co. are VERW in vmenter.S
	int fail = dbgkvm_vmx_vmenter(gprs_, launched_);
	dk_guest_state_exit();

	if (host_debugctl)
		dk_wrmsr_safe(MSR_DEBUGCTL, host_debugctl);

	cr2_ = read_cr2();
	dk_rdmsr_safe(MSR_KERNEL_GS_BASE, &kernel_gs_base_); // SWAPGS changes it
	dk_wrmsr_safe(MSR_STAR, pc.host_star);
	dk_wrmsr_safe(MSR_LSTAR, pc.host_lstar);
	dk_wrmsr_safe(MSR_CSTAR, pc.host_cstar);
	dk_wrmsr_safe(MSR_SFMASK, pc.host_sfmask);
	dk_wrmsr_safe(MSR_KERNEL_GS_BASE, h.kernel_gs_base);
	dk_vmx_host_restore(&h);

	ExitInfo &x = exit_;
	x = ExitInfo{};
	x.vmfail = fail;
	if (fail) {
		x.reason = u32(vmread(VM_INSTRUCTION_ERROR));
	} else {
		x.reason = u32(vmread(VM_EXIT_REASON));
		x.qual = vmread(EXIT_QUALIFICATION);
		x.intr_info = u32(vmread(VM_EXIT_INTR_INFO));
		x.intr_error = u32(vmread(VM_EXIT_INTR_ERROR_CODE));
		x.idt_info = u32(vmread(IDT_VECTORING_INFO));
		x.idt_error = u32(vmread(IDT_VECTORING_ERROR_CODE));
		x.insn_len = u32(vmread(VM_EXIT_INSTRUCTION_LEN));
		x.gpa = vmread(GUEST_PHYSICAL_ADDRESS);
	}
	entered_ = !fail && !(x.reason & EXIT_REASON_FAILED_ENTRY);
	if (!fail && (x.reason & 0xffff) == EXIT_MCE_DURING_ENTRY)
		dk_machine_check(); // the entry failed on a machine check (26.8)
	if (entered_) {
		launched_ = true;
		// An NMI that arrived in the guest exited to here: give it to the host.
		if ((x.reason & 0xffff) == EXIT_EXCEPTION_NMI && (x.intr_info & INTR_INFO_VALID) &&
		    ((x.intr_info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) == INTR_TYPE_NMI)
			dk_vmx_self_nmi();
		// A machine check in the guest: the host's handler, before interrupts come
		// back (KVM's vmx_handle_exit_irqoff).
		if ((x.reason & 0xffff) == EXIT_EXCEPTION_NMI && (x.intr_info & INTR_INFO_VALID) &&
		    (x.intr_info & INTR_INFO_VECTOR_MASK) == VEC_MC &&
		    ((x.intr_info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) ==
			INTR_TYPE_HARD_EXCEPTION)
			dk_machine_check();
		// The guest's MOV to CR0 may have switched EFER.LMA (long mode on or off);
		// the next entry's "IA-32e mode guest" must agree (26.3.1.1).
		set_efer(vmread(GUEST_IA32_EFER));
	}
}

ArchExit VmxVcpu::complete_exit()
{
	event_ = 0;
	if (entered_)
		save_idt_vectoring(exit_);
	return decode_exit(exit_);
}

} // namespace dbgkvm::vmx
