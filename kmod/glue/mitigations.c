// SPDX-License-Identifier: GPL-2.0
/*
 * The speculative-execution mitigations around a guest that live in C, as the target
 * kernel's KVM has them (Debian 6.1.192 and 6.12.117). The ones inside the world
 * switch itself are in vmx/vmenter.S and svm/vmrun.S; scripts/mitigations-check.sh
 * compares both with KVM's sources in make check.
 *
 *  - L1D flush before VM entry (L1TF, Intel only; KVM's vmx_l1d_flush). KVM flushes
 *    "conditionally" by default (after exits that ran "unsafe" code); dbgkvm always
 *    flushes, KVM's vmentry_l1d_flush=always, on a CPU that has the bug and has not
 *    been told to ignore it (l1tf=off, or ARCH_CAPABILITIES.SKIP_VMENTRY_L1DFLUSH from
 *    a hypervisor below that flushes itself). With the FLUSH_L1D command MSR one WRMSR;
 *    without it KVM's software sequence over a 64 KiB buffer.
 *  - IBPB when a CPU switches to another vCPU (KVM: when the loaded VMCS/VMCB
 *    changes): one guest must not steer the next one's indirect branches.
 *  - SRSO with BpSpecReduce (6.12 on Zen 5, srso=bp-spec-reduce): the kernel then leaves
 *    the mitigation of guests to the hypervisor, which sets BP_CFG.BP_SPEC_REDUCE on a
 *    CPU while VMs exist (KVM: from the first VM's first entry there until the last VM
 *    is gone). dbgkvm sets it with SVM on a CPU: from the first VM to the last.
 *  - VMSCAPE: after an exit, flag an IBPB before the return to user space
 *    (x86_ibpb_exit_to_user, set by KVM's vcpu_enter_guest), so the VMM process cannot
 *    be steered by the guest's branch predictions.
 * What KVM does that has no counterpart here: the MMIO-stale-data VERW for guests with
 * assigned devices (dbgkvm assigns none) and FB_CLEAR_CTRL (guests never see
 * ARCH_CAPABILITIES).
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include "dbgkvm_glue.h"
#include "glue_internal.h"

#define DK_L1D_CACHE_ORDER 4 /* 64 KiB, as KVM's L1D_CACHE_ORDER */

static bool l1d_flush_needed;
static void *l1d_flush_pages;

/* Each vCPU's token (dk_new_vcpu_token) and the last one each CPU ran. */
static DEFINE_PER_CPU(u64, last_vcpu_token);
static atomic64_t vcpu_tokens = ATOMIC64_INIT(0);

static bool host_skips_l1d_flush(void)
{
	u64 caps = 0;

	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES))
		rdmsrl_safe(MSR_IA32_ARCH_CAPABILITIES, &caps);
	return caps & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH;
}

int dk_mitigations_init(void)
{
	l1d_flush_needed = boot_cpu_has(X86_FEATURE_VMX) && boot_cpu_has_bug(X86_BUG_L1TF) &&
			   l1tf_mitigation != L1TF_MITIGATION_OFF && !host_skips_l1d_flush();
	if (l1d_flush_needed && !boot_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		struct page *page = alloc_pages(GFP_KERNEL, DK_L1D_CACHE_ORDER);

		if (!page)
			return -ENOMEM;
		l1d_flush_pages = page_address(page);
		/* Distinct contents, so no page is deduplicated or zero-page backed. */
		memset(l1d_flush_pages, 0x90, PAGE_SIZE << DK_L1D_CACHE_ORDER);
	}
	pr_info("dbgkvm: L1D flush before VM entry: %s\n", !l1d_flush_needed ? "not needed"
							   : l1d_flush_pages
							       ? "always, software sequence"
							       : "always, FLUSH_CMD MSR");
	return 0;
}

void dk_mitigations_exit(void)
{
	if (l1d_flush_pages)
		free_pages((unsigned long)l1d_flush_pages, DK_L1D_CACHE_ORDER);
	l1d_flush_pages = NULL;
}

/* Interrupts off, right before VMLAUNCH/VMRESUME (KVM's vmx_l1d_flush, "always"). */
void dk_l1d_flush(void)
{
	int size = PAGE_SIZE << DK_L1D_CACHE_ORDER;

	if (!l1d_flush_needed)
		return;
	if (static_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		native_wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		return;
	}
	/* The pages into the TLB first, then every line of them into the cache. */
	asm volatile("xorl %%eax, %%eax\n"
		     "1:\n\t"
		     "movzbl (%[pages], %%rax), %%ecx\n\t"
		     "addl $4096, %%eax\n\t"
		     "cmpl %%eax, %[size]\n\t"
		     "jne 1b\n\t"
		     "xorl %%eax, %%eax\n\t"
		     "cpuid\n\t"
		     "xorl %%eax, %%eax\n"
		     "2:\n\t"
		     "movzbl (%[pages], %%rax), %%ecx\n\t"
		     "addl $64, %%eax\n\t"
		     "cmpl %%eax, %[size]\n\t"
		     "jne 2b\n\t"
		     "lfence\n"
		     :
		     : [pages] "r"(l1d_flush_pages), [size] "r"(size)
		     : "eax", "ebx", "ecx", "edx", "memory");
}

dk_u64 dk_new_vcpu_token(void)
{
	return atomic64_inc_return(&vcpu_tokens);
}

/* Preemption off: the vCPU with this token is being loaded on this CPU. */
void dk_ibpb_on_vcpu_switch(dk_u64 token)
{
	if (this_cpu_read(last_vcpu_token) == token)
		return;
	this_cpu_write(last_vcpu_token, token);
	indirect_branch_prediction_barrier();
}

/* Interrupts off, after each exit (KVM's vcpu_enter_guest). */
void dk_vmscape_after_exit(void)
{
	if (cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER))
		this_cpu_write(x86_ibpb_exit_to_user, true);
}

/* On the CPU concerned (the hotplug callbacks that turn SVM on and off there). */
void dk_srso_bp_spec_reduce(bool on)
{
#ifdef MSR_ZEN4_BP_CFG_BP_SPEC_REDUCE_BIT
	if (!cpu_feature_enabled(X86_FEATURE_SRSO_BP_SPEC_REDUCE))
		return;
	if (on)
		msr_set_bit(MSR_ZEN4_BP_CFG, MSR_ZEN4_BP_CFG_BP_SPEC_REDUCE_BIT);
	else
		msr_clear_bit(MSR_ZEN4_BP_CFG, MSR_ZEN4_BP_CFG_BP_SPEC_REDUCE_BIT);
#endif
}
