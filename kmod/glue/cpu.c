// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU virtualization on/off through CPU hotplug, MSR access, and the guest FPU.
 *
 * dk_virt_enable_all() registers a dynamic hotplug state: the kernel calls the online
 * callback on every online CPU now (on that CPU), and on each CPU that comes online
 * later; removing the state calls the offline callback everywhere. So "enable when the
 * first VM is created, disable after the last is destroyed" is one call each way.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include <asm/fpu/api.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include "dbgkvm_glue.h"
#include "glue_internal.h"

static int hp_state = -1;

static int hp_online(unsigned int cpu)
{
	return dbgkvm_cpu_online(cpu);
}

static int hp_offline(unsigned int cpu)
{
	return dbgkvm_cpu_offline(cpu);
}

int dk_virt_enable_all(void)
{
	int r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "dbgkvm:online", hp_online, hp_offline);

	if (r < 0)
		return r;
	hp_state = r;
	return 0;
}

void dk_virt_disable_all(void)
{
	if (hp_state >= 0)
		cpuhp_remove_state(hp_state);
	hp_state = -1;
}

int dk_rdmsr_safe(dk_u32 msr, dk_u64 *val)
{
	return rdmsrl_safe(msr, val);
}

int dk_wrmsr_safe(dk_u32 msr, dk_u64 val)
{
	return wrmsrl_safe(msr, val);
}

/*
 * Guest FPU state. kernel_fpu_begin() saves the VMM thread's user FPU state (restored
 * on return to user space) and keeps kernel-mode FPU users (softirqs) off the
 * registers; we then XRSTOR the guest's state, run the guest, and XSAVE it back.
 * Components: x87, SSE, AVX and AVX-512 only. PKRU is left alone (it gates the
 * kernel's own user-memory accesses) and XFD-controlled components (AMX) are never
 * touched (XRSTOR of an armed XFD component would #NM in the kernel).
 */
#define DK_XFEATURES 0xe7ULL /* x87 | SSE | AVX | opmask | ZMM_Hi256 | Hi16_ZMM */

struct dk_fpu {
	u64 mask;
	u8 *area; /* 64-byte aligned */
	void *raw;
};

static bool dk_has_xsave;

struct dk_fpu *dk_fpu_new(void)
{
	struct dk_fpu *f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	unsigned int size = 512 + 64, eax, ebx, ecx, edx;

	if (!f)
		return NULL;
	if (dk_has_xsave) {
		cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx);
		size = max(size, ebx);
		f->mask = DK_XFEATURES & ((u64)eax | (u64)edx << 32);
	}
	f->raw = kzalloc(size + 64, GFP_KERNEL_ACCOUNT);
	if (!f->raw) {
		kfree(f);
		return NULL;
	}
	f->area = PTR_ALIGN((u8 *)f->raw, 64);
	/* Reset values: FCW = 0x37f, MXCSR = 0x1f80 (SDM Vol 1 13.4.1, legacy region). */
	*(u16 *)(f->area + 0) = 0x37f;
	*(u32 *)(f->area + 24) = 0x1f80;
	return f;
}

void dk_fpu_delete(struct dk_fpu *f)
{
	if (f) {
		kfree(f->raw);
		kfree(f);
	}
}

void dk_fpu_load_guest(struct dk_fpu *f)
{
	kernel_fpu_begin();
	if (dk_has_xsave)
		asm volatile("xrstor64 %0"
			     :
			     : "m"(*f->area), "a"((u32)f->mask), "d"((u32)(f->mask >> 32))
			     : "memory");
	else
		asm volatile("fxrstor64 %0" : : "m"(*f->area) : "memory");
}

void dk_fpu_put_guest(struct dk_fpu *f)
{
	if (dk_has_xsave)
		asm volatile("xsave64 %0"
			     : "+m"(*f->area)
			     : "a"((u32)f->mask), "d"((u32)(f->mask >> 32))
			     : "memory");
	else
		asm volatile("fxsave64 %0" : "+m"(*f->area) : : "memory");
	kernel_fpu_end();
}

int dk_glue_init(void)
{
	dk_has_xsave = boot_cpu_has(X86_FEATURE_XSAVE) && boot_cpu_has(X86_FEATURE_OSXSAVE);
	preempt_notifier_inc();
	return 0;
}

void dk_glue_exit(void)
{
	preempt_notifier_dec();
}
