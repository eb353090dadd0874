/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drwatch's judge: follows each vCPU through the event stream and counts loads, puts,
 * reloads and missed reloads. Pure C, no BPF: the host-side check feeds it synthetic
 * streams (dwstate_check.c), drwatch and drwatch_test feed it the ring buffer.
 */
#ifndef DWSTATE_H
#define DWSTATE_H

#include <linux/types.h>
#include <stdio.h>
#include "drwatch.h"

#define DW_MAX_VCPUS 256
#define DW_MAX_CPUS  1024

struct dw_vcpu {
	__u32 vm, vcpu;
	/* counts */
	__u64 loads, puts, preempt_puts, ioctl_puts, preempt_loads, new_cpu_loads;
	__u64 entries, dr_loads, reloads, load_reloads, syncs, debug_exits;
	__u64 missed, missed_stale;
	__u64 stale_loads; /* dr_loads with STALE: the module found other values */
	/* dr_loads whose vCPU's next event was not its guest entry on the same CPU (only
	 * meaningful when guest entries are traced) */
	__u64 unentered;
	/* state */
	__u32 sdr;	/* switch_db_regs, latest known */
	__u32 last_tid; /* thread of the latest load */
	int load_cpu;	/* CPU of the latest load, -1 before the first */
	int dr_cpu;	/* CPU of the latest dr_load, -1 before the first */
	int pending;	/* loaded, and no dr_load nor guest entry since */
	int entry_due;	/* a dr_load, its guest entry not seen yet */
	int last_put_preempt;
};

struct dw_state {
	struct dw_vcpu v[DW_MAX_VCPUS];
	int nr;
	int overflow; /* more vCPUs than DW_MAX_VCPUS: the rest are not followed */
	/* Per CPU: the vCPU whose DR0-3 were loaded last (index + 1; 0 = none seen). */
	int dr_owner[DW_MAX_CPUS];
	__u64 events, entries_seen;
	FILE *log; /* one line per event (-v), or NULL */
	FILE *err; /* one line per missed reload, or NULL */
};

void dw_state_init(struct dw_state *s);
void dw_state_event(struct dw_state *s, const struct dw_event *e);
void dw_state_summary(const struct dw_state *s, FILE *f, int have_entries, __u64 drops);
__u64 dw_state_missed(const struct dw_state *s);
__u64 dw_state_unentered(const struct dw_state *s);
const char *dw_kind_name(__u32 kind);

#endif
