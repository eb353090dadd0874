// SPDX-License-Identifier: GPL-2.0
/*
 * drwatch's BPF side: forward dbgkvm's trace events, guest entries among them, into a
 * ring buffer; user space (drwatch.c) follows each vCPU and judges the reloads.
 *
 * Raw tracepoints, not tracepoint-format or BTF programs: a raw tracepoint hands over
 * the TP_PROTO arguments by position, so these programs need neither the module's BTF
 * (none when it is built against Debian's 6.1 headers, which ship no vmlinux) nor the
 * format files. The positions are fixed by kmod/glue/dbgkvm_trace.h: vm, vcpu, cpu,
 * switch_db_regs first in every event, dbgkvm_guest_entry included.
 *
 * One ring buffer for all CPUs keeps the events in a single order that respects
 * causality: a vCPU put on one CPU is reserved before its load on the next one.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "drwatch.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/* [0]: records lost because the ring buffer was full. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/*
 * Per CPU: the thread sched_switch is switching out. The preempt notifiers' sched_out
 * runs after trace_sched_switch in the same __schedule(), still as that thread; a put
 * from the ioctl path runs in a thread that was switched *in* since. So a put whose
 * thread is the one being switched out is a preemption put.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} switching_out SEC(".maps");

static __always_inline struct dw_event *reserve(__u32 kind, __u64 *args)
{
	struct dw_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__u32 k = 0;
		__u64 *d = bpf_map_lookup_elem(&drops, &k);

		if (d)
			__sync_fetch_and_add(d, 1);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts = bpf_ktime_get_ns();
	e->kind = kind;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	if (args) {
		e->vm = (__u32)args[0];
		e->vcpu = (__u32)args[1];
		e->cpu = (__s32)args[2];
		e->sdr = (__u32)args[3];
	}
	return e;
}

SEC("raw_tp/sched_switch")
int dw_sched_switch(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 k = 0, *t = bpf_map_lookup_elem(&switching_out, &k);

	if (t)
		*t = (__u32)bpf_get_current_pid_tgid();
	return 0;
}

/* (vm, vcpu, cpu, switch_db_regs) */
SEC("raw_tp/dbgkvm_vcpu_load")
int dw_vcpu_load(struct bpf_raw_tracepoint_args *ctx)
{
	struct dw_event *e = reserve(DW_LOAD, ctx->args);

	if (e)
		bpf_ringbuf_submit(e, 0);
	return 0;
}

/* (vm, vcpu, cpu, switch_db_regs) */
SEC("raw_tp/dbgkvm_vcpu_put")
int dw_vcpu_put(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), k = 0, *t;
	struct dw_event *e = reserve(DW_PUT, ctx->args);

	if (!e)
		return 0;
	t = bpf_map_lookup_elem(&switching_out, &k);
	e->preempt = t && *t == tid;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* (vm, vcpu, cpu, switch_db_regs, reason, const u64 *db, dr7) */
SEC("raw_tp/dbgkvm_dr_load")
int dw_dr_load(struct bpf_raw_tracepoint_args *ctx)
{
	struct dw_event *e = reserve(DW_DR_LOAD, ctx->args);

	if (!e)
		return 0;
	e->reason = (__u32)ctx->args[4];
	bpf_probe_read_kernel(e->db, sizeof(e->db), (const void *)ctx->args[5]);
	e->dr7 = ctx->args[6];
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* (vm, vcpu, cpu, switch_db_regs, const u64 *db, dr6) */
SEC("raw_tp/dbgkvm_dr_sync")
int dw_dr_sync(struct bpf_raw_tracepoint_args *ctx)
{
	struct dw_event *e = reserve(DW_DR_SYNC, ctx->args);

	if (!e)
		return 0;
	bpf_probe_read_kernel(e->db, sizeof(e->db), (const void *)ctx->args[4]);
	e->dr6 = ctx->args[5];
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* (vm, vcpu, cpu, switch_db_regs, exception, pc, dr6, dr7) */
SEC("raw_tp/dbgkvm_debug_exit")
int dw_debug_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct dw_event *e = reserve(DW_DEBUG_EXIT, ctx->args);

	if (!e)
		return 0;
	e->reason = (__u32)ctx->args[4];
	e->pc = ctx->args[5];
	e->dr6 = ctx->args[6];
	e->dr7 = ctx->args[7];
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * (vm, vcpu, cpu, switch_db_regs) - the guest is about to be entered: interrupts are
 * off, any dr_load of this entry came first, and the world switch follows. sdr is as the
 * entry plan found it (RELOAD still set if this entry reloads). It shows entries that no
 * dr_load preceded. Attached unless user space asks not to (drwatch --no-entry).
 */
SEC("raw_tp/dbgkvm_guest_entry")
int dw_guest_entry(struct bpf_raw_tracepoint_args *ctx)
{
	struct dw_event *e = reserve(DW_ENTRY, ctx->args);

	if (e)
		bpf_ringbuf_submit(e, 0);
	return 0;
}
