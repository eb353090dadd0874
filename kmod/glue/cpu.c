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
#include <linux/mutex.h>
#include <linux/reboot.h>
#include <linux/rwsem.h>
#include <linux/preempt.h>
#include <linux/lockdep.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/cpu.h>
#include <asm/cpufeature.h>
#include <asm/mce.h>
#include <asm/msr.h>
#include <asm/tsc.h>
#include "dbgkvm_glue.h"
#include "glue_internal.h"

static int hp_state = -1;
static DEFINE_MUTEX(virt_lock); /* hp_state, dk_rebooting's transition */

/*
 * Reboot, halt, power-off and kexec with VMs open (KVM: kvm_reboot / kvm_shutdown).
 * Every CPU must leave VMX/SVM operation, or the next kernel cannot start its APs (VMX
 * blocks INIT). The notifier:
 *  1. sets dk_rebooting: KVM_RUN loops return -EIO at their next exit (a host timer
 *     interrupt ends any guest), new ioctls and new VMs get -EIO;
 *  2. waits until no ioctl that may execute a VMX/SVM instruction is in flight
 *     (virt_users, taken for read around every VM and vCPU ioctl);
 *  3. runs the offline callback on every CPU, as CPU hot-unplug does: VMCSs cleared,
 *     VMXOFF / EFER.SVME cleared. The VMs stay valid objects; closing them later
 *     touches no hardware (a VMCS cleared at offline is not cleared again).
 * Not covered: a crash into kdump or an emergency reboot (see README, Security).
 */
bool dk_rebooting;
static DECLARE_RWSEM(virt_users);

int dk_virt_user_enter(void)
{
	if (!down_read_trylock(&virt_users))
		return -EIO; /* the reboot notifier holds or waits for it */
	if (READ_ONCE(dk_rebooting)) {
		up_read(&virt_users);
		return -EIO;
	}
	return 0;
}

void dk_virt_user_exit(void)
{
	up_read(&virt_users);
}

static int dk_reboot_notify(struct notifier_block *nb, unsigned long action, void *data)
{
	WRITE_ONCE(dk_rebooting, true);
	down_write(&virt_users);
	mutex_lock(&virt_lock);
	if (hp_state >= 0) {
		cpuhp_remove_state(hp_state);
		hp_state = -1;
		pr_info("dbgkvm: virtualization off on every CPU (reboot, halt or kexec)\n");
	}
	mutex_unlock(&virt_lock);
	up_write(&virt_users);
	return NOTIFY_OK;
}

static struct notifier_block dk_reboot_nb = {
    .notifier_call = dk_reboot_notify,
};

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
	int r;

	mutex_lock(&virt_lock);
	if (READ_ONCE(dk_rebooting)) {
		mutex_unlock(&virt_lock);
		return -EIO;
	}
	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "dbgkvm:online", hp_online, hp_offline);
	if (r >= 0)
		hp_state = r;
	mutex_unlock(&virt_lock);
	return r < 0 ? r : 0;
}

void dk_virt_disable_all(void)
{
	mutex_lock(&virt_lock);
	if (hp_state >= 0)
		cpuhp_remove_state(hp_state);
	hp_state = -1;
	mutex_unlock(&virt_lock);
}

/*
 * A machine check that arrived while a guest ran exits to the hypervisor (#MC is
 * intercepted) instead of reaching the host's handler: hand it over, as KVM's
 * kvm_machine_check() does, so the host logs it and calls memory_failure(). Interrupts
 * are off, right after the exit.
 */
void dk_machine_check(void)
{
#if defined(CONFIG_X86_MCE)
	struct pt_regs regs = {
	    .cs = 3, /* fake ring 3, whatever the guest ran at (as KVM) */
	    .flags = X86_EFLAGS_IF,
	};

	do_machine_check(&regs);
#endif
}

/*
 * A split lock in a guest, caught by the host's split-lock detection: the host's policy
 * decides (split_lock_detect=warn: rate-limited warning, detection off for this task
 * for a while, true: resume the guest; fatal: SIGBUS, false), as for KVM.
 */
bool dk_host_split_lock_detect;

bool dk_handle_guest_split_lock(dk_u64 rip)
{
	return handle_guest_split_lock(rip);
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
 * Guest FPU state, as KVM keeps it (x86.c kvm_load_guest_fpu/kvm_put_guest_fpu, with
 * the kernel's fpu_guest API, exported GPL on 6.1 and 6.12):
 *  - KVM_RUN swaps the task's fpstate for the guest's once (dk_guest_fpu_enter) and
 *    back once before it returns (dk_guest_fpu_exit). In between, the guest's x87/SSE/
 *    AVX state is the VMM thread's own FPU state: a context switch saves it into the
 *    guest fpstate and the return path restores it, so preemption stays enabled
 *    between entries.
 *  - Before each entry, with interrupts off, the registers are reloaded if the kernel
 *    used them meanwhile (TIF_NEED_FPU_LOAD: a softirq's kernel_fpu_begin, a context
 *    switch): dk_guest_fpu_reload.
 * PKRU is not in the swapped set (XFEATURE_MASK_FPSTATE excludes it); XFD is the
 * guest fpstate's (0, with no dynamic features permitted), written by the kernel.
 */
struct dk_guest_fpu {
	struct fpu_guest gfpu;
};

struct dk_guest_fpu *dk_guest_fpu_new(void)
{
	struct dk_guest_fpu *f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);

	if (f && !fpu_alloc_guest_fpstate(&f->gfpu)) {
		kfree(f);
		return NULL;
	}
	return f;
}

void dk_guest_fpu_delete(struct dk_guest_fpu *f)
{
	if (f) {
		fpu_free_guest_fpstate(&f->gfpu);
		kfree(f);
	}
}

void dk_guest_fpu_enter(struct dk_guest_fpu *f)
{
	fpu_swap_kvm_fpstate(&f->gfpu, true);
}

void dk_guest_fpu_exit(struct dk_guest_fpu *f)
{
	fpu_swap_kvm_fpstate(&f->gfpu, false);
}

void dk_guest_fpu_reload(void)
{
	lockdep_assert_irqs_disabled();
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
}

static_assert(sizeof(struct fxregs_state) == 512);

void dk_guest_fpu_read_fxsave(struct dk_guest_fpu *f, void *fx)
{
	memcpy(fx, &f->gfpu.fpstate->regs.fxsave, sizeof(struct fxregs_state));
}

void dk_guest_fpu_write_fxsave(struct dk_guest_fpu *f, const void *fx)
{
	memcpy(&f->gfpu.fpstate->regs.fxsave, fx, sizeof(struct fxregs_state));
}

void dk_guest_fpu_get_xsave(struct dk_guest_fpu *f, void *buf, dk_size size, u64 xfeatures)
{
	fpu_copy_guest_fpstate_to_uabi(&f->gfpu, buf, size, xfeatures, 0);
}

int dk_guest_fpu_set_xsave(struct dk_guest_fpu *f, const void *buf, u64 xfeatures)
{
	u32 pkru = 0; /* not in xfeatures: left alone */

	return fpu_copy_uabi_to_guest_fpstate(&f->gfpu, buf, xfeatures, &pkru);
}

bool dk_host_has_tsc_aux;
bool dk_host_has_xsave;

int dk_glue_init(void)
{
	int r = dk_mitigations_init();

	if (r)
		return r;
	dk_host_has_tsc_aux = boot_cpu_has(X86_FEATURE_RDTSCP) || boot_cpu_has(X86_FEATURE_RDPID);
	dk_host_has_xsave = boot_cpu_has(X86_FEATURE_XSAVE);
	dk_host_split_lock_detect = boot_cpu_has(X86_FEATURE_SPLIT_LOCK_DETECT);
	r = register_reboot_notifier(&dk_reboot_nb);
	if (r) {
		dk_mitigations_exit();
		return r;
	}
	preempt_notifier_inc();
	return 0;
}

void dk_glue_exit(void)
{
	preempt_notifier_dec();
	unregister_reboot_notifier(&dk_reboot_nb);
	dk_mitigations_exit();
}

unsigned int dk_host_phys_bits(void)
{
	return boot_cpu_data.x86_phys_bits;
}

unsigned int dk_tsc_khz(void)
{
	return READ_ONCE(tsc_khz);
}
