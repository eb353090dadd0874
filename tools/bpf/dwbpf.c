// SPDX-License-Identifier: GPL-2.0
/* drwatch's BPF plumbing around the bpftool-generated skeleton. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "dwbpf.h"
#include "drwatch.skel.h"

struct dw_bpf {
	struct drwatch_bpf *skel;
	struct ring_buffer *rb;
	struct dw_state *s;
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct dw_bpf *b = ctx;

	if (len >= sizeof(struct dw_event))
		dw_state_event(b->s, data);
	return 0;
}

/* libbpf's own messages only when something fails: warnings and errors. */
static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int attach_raw(struct bpf_program *p, const char *tp)
{
	struct bpf_link *l = bpf_program__attach_raw_tracepoint(p, tp);

	if (!l) {
		fprintf(stderr, "drwatch: cannot attach to raw tracepoint %s: %s%s\n", tp,
			strerror(errno),
			errno == ENOENT ? " (is dbgkvm.ko loaded, and built with the trace events?)"
					: "");
		return -1;
	}
	return 0;
}

struct dw_bpf *dw_bpf_open(struct dw_state *s, int entries)
{
	struct dw_bpf *b = calloc(1, sizeof(*b));
	struct drwatch_bpf *k;

	if (!b)
		return NULL;
	b->s = s;
	libbpf_set_print(print_libbpf);
	k = b->skel = drwatch_bpf__open();
	if (!k) {
		fprintf(stderr, "drwatch: cannot open the BPF object: %s\n", strerror(errno));
		goto fail;
	}
	if (drwatch_bpf__load(k)) {
		fprintf(
		    stderr,
		    "drwatch: cannot load the BPF programs: %s (root? CAP_BPF and CAP_PERFMON?)\n",
		    strerror(errno));
		goto fail;
	}
	if (attach_raw(k->progs.dw_sched_switch, "sched_switch") ||
	    attach_raw(k->progs.dw_vcpu_load, "dbgkvm_vcpu_load") ||
	    attach_raw(k->progs.dw_vcpu_put, "dbgkvm_vcpu_put") ||
	    attach_raw(k->progs.dw_dr_load, "dbgkvm_dr_load") ||
	    attach_raw(k->progs.dw_dr_sync, "dbgkvm_dr_sync") ||
	    attach_raw(k->progs.dw_debug_exit, "dbgkvm_debug_exit") ||
	    (entries && attach_raw(k->progs.dw_guest_entry, "dbgkvm_guest_entry")))
		goto fail;
	b->rb = ring_buffer__new(bpf_map__fd(k->maps.events), on_event, b, NULL);
	if (!b->rb) {
		fprintf(stderr, "drwatch: cannot map the ring buffer: %s\n", strerror(errno));
		goto fail;
	}
	return b;
fail:
	dw_bpf_close(b);
	return NULL;
}

int dw_bpf_poll(struct dw_bpf *b, int timeout_ms)
{
	int r = ring_buffer__poll(b->rb, timeout_ms);

	return r == -EINTR ? 0 : r;
}

__u64 dw_bpf_drops(struct dw_bpf *b)
{
	__u32 k = 0;
	__u64 v = 0;

	bpf_map__lookup_elem(b->skel->maps.drops, &k, sizeof(k), &v, sizeof(v), 0);
	return v;
}

void dw_bpf_close(struct dw_bpf *b)
{
	if (!b)
		return;
	ring_buffer__free(b->rb);
	drwatch_bpf__destroy(b->skel);
	free(b);
}
