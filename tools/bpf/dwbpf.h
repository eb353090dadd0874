/* SPDX-License-Identifier: GPL-2.0 */
/* Loading and attaching drwatch's BPF programs, and draining their ring buffer. */
#ifndef DWBPF_H
#define DWBPF_H

#include "dwstate.h"

struct dw_bpf;

/*
 * Load the programs and attach them to sched_switch and the dbgkvm raw tracepoints
 * (fails if dbgkvm is not loaded). dbgkvm_guest_entry, the most frequent of them, only
 * if entries is not 0: without it, only the dr_load reasons judge. Returns NULL with a
 * message on stderr on failure.
 */
struct dw_bpf *dw_bpf_open(struct dw_state *s, int entries);
/* Feed the events to the state; wait up to timeout_ms. < 0 on error (not EINTR). */
int dw_bpf_poll(struct dw_bpf *b, int timeout_ms);
/* Records lost to a full ring buffer. */
__u64 dw_bpf_drops(struct dw_bpf *b);
void dw_bpf_close(struct dw_bpf *b);

#endif
