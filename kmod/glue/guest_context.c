// SPDX-License-Identifier: GPL-2.0
/*
 * What the kernel must know while a guest runs, as KVM tells it (include/linux/kvm_host.h):
 *  - guest timing: PF_VCPU set from before the world switch until the interrupt that
 *    ended the guest has been taken, so the tick charges that time to the task's guest
 *    time (/proc/PID/stat guest_time) and the cpustat "guest" column, not to system;
 *  - guest state: to lockdep and irq tracing the guest runs with interrupts on; to RCU
 *    and context tracking (nohz_full) the CPU is in an extended quiescent state, so a
 *    long-running guest never stalls a grace period.
 * Between dk_guest_state_enter and dk_guest_state_exit only the world switch runs: no
 * locks, no tracing, no allocation.
 */
#include <linux/kvm_host.h>
#include "dbgkvm_glue.h"

void dk_guest_timing_enter(void)
{
	guest_timing_enter_irqoff();
}

void dk_guest_state_enter(void)
{
	guest_state_enter_irqoff();
}

void dk_guest_state_exit(void)
{
	guest_state_exit_irqoff();
}

/*
 * After the exit, interrupts off: open a window for the interrupt that ended the guest
 * while PF_VCPU is still set (the tick in it is guest time), then account the exit and
 * leave interrupts on (KVM's vcpu_enter_guest).
 */
void dk_guest_timing_exit_irq_on(void)
{
	local_irq_enable();
	local_irq_disable();
	guest_timing_exit_irqoff();
	local_irq_enable();
}
