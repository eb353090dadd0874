/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * What dbgkvm adds to KVM's ABI. The ioctls, their numbers and structs are KVM's own
 * (<linux/kvm.h>): a program written for /dev/kvm works on /dev/dbgkvm unchanged but
 * for the path. This header holds only dbgkvm's own names.
 */
#ifndef _UAPI_LINUX_DBGKVM_H
#define _UAPI_LINUX_DBGKVM_H

#define DBGKVM_DEVICE_PATH "/dev/dbgkvm"

/*
 * Trace events (trace system "dbgkvm": dbgkvm_vcpu_load, dbgkvm_vcpu_put, dbgkvm_dr_load,
 * dbgkvm_dr_sync, dbgkvm_debug_exit) carry the vCPU's switch_db_regs flags, with KVM's
 * values...
 */
#define DBGKVM_DEBUGREG_BP_ENABLED 1u /* the effective DR7 arms a breakpoint */
#define DBGKVM_DEBUGREG_WONT_EXIT 2u  /* the guest owns the debug registers */
#define DBGKVM_DEBUGREG_RELOAD 4u     /* the hardware may not hold eff_db */

/* ...and dbgkvm_dr_load says why DR0-3 were written before an entry. */
#define DBGKVM_DR_LOAD_RELOAD 1u      /* RELOAD was set: after vcpu_load or a DR0-3 change */
#define DBGKVM_DR_LOAD_BP_ENABLED 2u  /* the effective DR7 arms a breakpoint */
#define DBGKVM_DR_LOAD_WONT_EXIT 4u   /* the guest owns the debug registers */
#define DBGKVM_DR_LOAD_GUEST_DEBUG 8u /* userspace's KVM_GUESTDBG_USE_HW_BP registers */
#define DBGKVM_DR_LOAD_STALE 16u      /* no RELOAD, but the hardware held other values */

/* Fault-injection module parameters (all off by default), one per historical bug:
 *   no_reload_on_load, svm_clobber_guest_dr6, skip_code_bp_check,
 *   single_cause_on_coincident. */

#endif
