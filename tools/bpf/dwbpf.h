/* SPDX-License-Identifier: GPL-2.0 */
/* Loading and attaching drwatch's BPF programs, and draining their ring buffer. */
#ifndef DWBPF_H
#define DWBPF_H

#include "dwstate.h"

struct dw_bpf;

/*
 * Load the programs and attach them: the five dbgkvm raw tracepoints and sched_switch
 * (required; fails if dbgkvm is not loaded), and the entry kprobe on entry_sym if not
 * NULL (optional: *have_entries says whether it attached). Returns NULL with a message
 * on stderr on failure.
 */
struct dw_bpf *dw_bpf_open(struct dw_state *s, const char *entry_sym, int *have_entries);
/* Feed the events to the state; wait up to timeout_ms. < 0 on error (not EINTR). */
int dw_bpf_poll(struct dw_bpf *b, int timeout_ms);
/* Records lost to a full ring buffer. */
__u64 dw_bpf_drops(struct dw_bpf *b);
void dw_bpf_close(struct dw_bpf *b);

/*
 * Where guest runs are seen, first that attaches wins. Not the world switch itself
 * (svm/vmrun.S, vmx/vmenter.S): assembly has no fentry, and Debian's kernels
 * (KPROBE_EVENTS_ON_NOTRACE=n) refuse kprobe events on functions ftrace cannot trace.
 * dk_fpu_put_guest is C glue that both backends call right after every VMRUN / VM entry,
 * with preemption still off since before the dr_load: so it follows the entry's dr_load
 * and precedes any later vcpu_load of that vCPU.
 */
#define DW_ENTRY_SYMS "dk_fpu_put_guest"

#endif
