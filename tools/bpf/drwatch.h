/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared between drwatch.bpf.c (BPF) and drwatch's user space: the records the BPF
 * programs put into the ring buffer. Plain fixed-width types only.
 */
#ifndef DRWATCH_H
#define DRWATCH_H

enum dw_kind {
	DW_LOAD = 1,   /* dbgkvm_vcpu_load */
	DW_PUT,	       /* dbgkvm_vcpu_put */
	DW_DR_LOAD,    /* dbgkvm_dr_load */
	DW_DR_SYNC,    /* dbgkvm_dr_sync */
	DW_DEBUG_EXIT, /* dbgkvm_debug_exit */
	DW_ENTRY,      /* dbgkvm_guest_entry: the vCPU enters its guest (after any dr_load) */
};

/* KVM_DEBUGREG_* (switch_db_regs) */
#define DW_SDR_BP_ENABLED  1u
#define DW_SDR_WONT_EXIT   2u
#define DW_SDR_RELOAD	   4u
/* DK_DR_LOAD_* (dr_load's reason) */
#define DW_WHY_RELOAD	   1u
#define DW_WHY_BP_ENABLED  2u
#define DW_WHY_WONT_EXIT   4u
#define DW_WHY_GUEST_DEBUG 8u
#define DW_WHY_STALE	   16u /* no RELOAD, but the module found other values in DR0-3 */

struct dw_event {
	__u64 ts;	/* bpf_ktime_get_ns() */
	__u32 kind;	/* enum dw_kind */
	__u32 tid;	/* the thread that hit the event */
	__u32 vm, vcpu; /* ids as the module numbers them */
	__s32 cpu;	/* the event's cpu argument */
	__u32 sdr;	/* switch_db_regs at that point (DW_ENTRY: as the entry plan found it) */
	__u32 reason;	/* DW_DR_LOAD: DK_DR_LOAD_*; DW_DEBUG_EXIT: the exception vector */
	__u32 preempt;	/* DW_PUT: 1 if it came from the sched_out preempt notifier */
	__u64 db[4];	/* DW_DR_LOAD/DW_DR_SYNC: DR0-3 */
	__u64 dr6, dr7; /* where the event has them */
	__u64 pc;	/* DW_DEBUG_EXIT */
};

#endif
