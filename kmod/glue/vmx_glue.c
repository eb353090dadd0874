// SPDX-License-Identifier: GPL-2.0
/*
 * What the VMX backend needs from the kernel: cross-CPU calls (VMCLEAR where a VMCS is
 * active), CR4.VMXE through the kernel's CR4 shadow, the host segment state a VM exit
 * leaves wrong, and re-raising an NMI that a VM exit swallowed.
 */
#include <linux/smp.h>
#include <asm/apic.h>
#include <asm/desc.h>
/* load_gs_index(): <asm/gsseg.h> since 6.2; before, reached through <asm/processor.h>. */
#include <linux/version.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#include <asm/gsseg.h>
#endif
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/tlbflush.h>
#include "dbgkvm_glue.h"

int dk_run_on_cpu(int cpu, void (*fn)(void *), void *arg)
{
	return smp_call_function_single(cpu, fn, arg, 1);
}

/*
 * CR4 is written through cr4_set_bits()/cr4_clear_bits() so that the kernel's per-CPU
 * copy (cpu_tlbstate.cr4) agrees: the kernel rewrites CR4 from that copy, and clearing
 * VMXE in VMX operation would #GP. A VMXE already set means another hypervisor
 * (kvm_intel) holds VMX on this CPU: the check KVM itself makes.
 */
int dk_vmx_cr4_enable(void)
{
	if (cr4_read_shadow() & X86_CR4_VMXE)
		return -EBUSY;
	cr4_set_bits(X86_CR4_VMXE);
	return 0;
}

void dk_vmx_cr4_disable(void)
{
	cr4_clear_bits(X86_CR4_VMXE);
}

/*
 * A VM exit loads the host's selectors and bases from the VMCS host-state area, but
 * only selectors with RPL = 0 and TI = 0 may go there (SDM Vol. 3, 26.2.3), and it
 * leaves LDTR unusable, the GDTR limit at 0xffff and the TR limit at 0x67 (27.5.2).
 * User DS/ES/FS/GS selectors (RPL 3) are therefore written as 0 into the VMCS and
 * loaded again after the exit, as KVM's vmx_prepare_switch_to_host() does. The
 * backend writes HOST_FS_BASE/HOST_GS_BASE from fs_base/gs_base.
 */
void dk_vmx_host_save(struct dk_vmx_host *h)
{
	savesegment(ds, h->ds);
	savesegment(es, h->es);
	savesegment(fs, h->fs);
	savesegment(gs, h->gs);
	asm volatile("sldt %0" : "=r"(h->ldt));
	rdmsrl(MSR_FS_BASE, h->fs_base);
	rdmsrl(MSR_GS_BASE, h->gs_base);
	rdmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
}

void dk_vmx_host_restore(const struct dk_vmx_host *h)
{
	if (h->ldt)
		asm volatile("lldt %0" : : "rm"(h->ldt));
	if (h->ldt || (h->gs & 7)) {
		/* Loading GS (through SWAPGS) replaces the user GS base: put it back. */
		load_gs_index(h->gs);
		wrmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	}
	if (h->fs & 7) {
		loadsegment(fs, h->fs);
		wrmsrl(MSR_FS_BASE, h->fs_base);
	}
	if (h->ds | h->es) {
		loadsegment(ds, h->ds);
		loadsegment(es, h->es);
	}
	invalidate_tss_limit();
	load_fixmap_gdt(raw_smp_processor_id());
}

/*
 * With "NMI exiting", an NMI that arrives in the guest ends it and is gone: the host
 * never saw it (SDM Vol. 3, 26.2 and 27.2.2). KVM calls the kernel's NMI entry through
 * the IDT (asm_exc_nmi_kvm_vmx, not exported to modules). A module can instead send
 * itself an NMI through the local APIC: apic->send_IPI() with NMI_VECTOR programs the
 * ICR with delivery mode NMI in both xAPIC and x2APIC modes (__prepare_ICR), on 6.1
 * and 6.12 alike (the x2APIC "self IPI" register cannot carry an NMI, so not
 * send_IPI_self). The NMI is taken as soon as it is delivered, interrupts off or not;
 * its original source (a perf counter overflow, say) is still flagged, so the
 * kernel's handlers find who it was for.
 */
void dk_vmx_self_nmi(void)
{
	apic->send_IPI(smp_processor_id(), NMI_VECTOR);
}
