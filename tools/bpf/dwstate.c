// SPDX-License-Identifier: GPL-2.0
/*
 * The rule (the 2016 fix, "KVM: x86: fix missed hardware breakpoints", seeds 000/003):
 * vcpu_load sets RELOAD, because whoever ran on the CPU in between (another vCPU, the
 * host's ptrace or perf breakpoints) may have left other values in DR0-3. So after a
 * load, the first guest entry of a vCPU whose debug registers matter (BP_ENABLED: its
 * effective DR7 arms a breakpoint; WONT_EXIT: the guest owns DR0-3) must come after a
 * dr_load whose reason has RELOAD. A miss is:
 *   - a dr_load after a load without RELOAD in its reason, while the vCPU is armed;
 *   - a guest entry (dbgkvm_guest_entry, which follows the entry's dr_load, if any, and
 *     precedes the world switch) after a load with no dr_load at all in between, while
 *     the vCPU is armed (the entry's own switch_db_regs, as the entry plan found it).
 * A miss is "stale" when the hardware provably held something else: the load was on
 * another CPU than the vCPU's last dr_load or dr_sync, another vCPU loaded (or its guest
 * wrote, seen at dr_sync) its DR0-3 on this CPU since, or the module itself found other values
 * there (reason STALE: dbgkvm's lazy reload verifies DR0-3 before entries that load nothing, and
 * reloads them). Host breakpoints are not visible here, so a miss that is not stale is still a
 * miss: the rule is unconditional, as in KVM.
 */
#include <string.h>
#include "dwstate.h"

#define ARMED (DW_SDR_BP_ENABLED | DW_SDR_WONT_EXIT)

const char *dw_kind_name(__u32 kind)
{
	switch (kind) {
	case DW_LOAD:
		return "vcpu_load";
	case DW_PUT:
		return "vcpu_put";
	case DW_DR_LOAD:
		return "dr_load";
	case DW_DR_SYNC:
		return "dr_sync";
	case DW_DEBUG_EXIT:
		return "debug_exit";
	case DW_ENTRY:
		return "entry";
	}
	return "?";
}

void dw_state_init(struct dw_state *s)
{
	memset(s, 0, sizeof(*s));
}

static struct dw_vcpu *find(struct dw_state *s, __u32 vm, __u32 vcpu)
{
	int i;

	for (i = 0; i < s->nr; i++)
		if (s->v[i].vm == vm && s->v[i].vcpu == vcpu)
			return &s->v[i];
	if (s->nr == DW_MAX_VCPUS) {
		s->overflow = 1;
		return NULL;
	}
	memset(&s->v[s->nr], 0, sizeof(s->v[0]));
	s->v[s->nr].vm = vm;
	s->v[s->nr].vcpu = vcpu;
	s->v[s->nr].load_cpu = -1;
	s->v[s->nr].dr_cpu = -1;
	return &s->v[s->nr++];
}

static int cpu_ok(int cpu)
{
	return cpu >= 0 && cpu < DW_MAX_CPUS;
}

static void miss(struct dw_state *s, struct dw_vcpu *v, const struct dw_event *e, const char *what)
{
	int owner = cpu_ok(e->cpu) ? s->dr_owner[e->cpu] : 0;
	int self = (int)(v - s->v) + 1;
	int stale = v->dr_cpu != e->cpu || (owner && owner != self) ||
		    (e->kind == DW_DR_LOAD && (e->reason & DW_WHY_STALE));

	v->missed++;
	if (stale)
		v->missed_stale++;
	if (!s->err)
		return;
	fprintf(s->err,
		"MISSED RELOAD: vm %u vcpu %u cpu %d: %s after vcpu_load (switch_db_regs 0x%x",
		v->vm, v->vcpu, e->cpu, what, v->sdr);
	if (e->kind == DW_DR_LOAD)
		fprintf(s->err, ", reason 0x%x", e->reason);
	fprintf(s->err, ")");
	if (v->dr_cpu != e->cpu)
		fprintf(s->err, "; its DRs were last loaded on cpu %d", v->dr_cpu);
	if (owner && owner != self)
		fprintf(s->err, "; vm %u vcpu %u loaded its DRs on cpu %d since",
			s->v[owner - 1].vm, s->v[owner - 1].vcpu, e->cpu);
	fprintf(s->err, "\n");
}

static void log_event(struct dw_state *s, const struct dw_event *e)
{
	FILE *f = s->log;

	fprintf(f, "%llu.%06llu cpu %d %-10s vm %u vcpu %u tid %u sdr 0x%x", e->ts / 1000000000ULL,
		(e->ts / 1000) % 1000000ULL, e->cpu, dw_kind_name(e->kind), e->vm, e->vcpu, e->tid,
		e->sdr);
	switch (e->kind) {
	case DW_PUT:
		fprintf(f, " %s", e->preempt ? "preempt" : "ioctl");
		break;
	case DW_DR_LOAD:
		fprintf(f, " reason 0x%x db %llx %llx %llx %llx dr7 %llx", e->reason, e->db[0],
			e->db[1], e->db[2], e->db[3], e->dr7);
		break;
	case DW_DR_SYNC:
		fprintf(f, " db %llx %llx %llx %llx dr6 %llx", e->db[0], e->db[1], e->db[2],
			e->db[3], e->dr6);
		break;
	case DW_DEBUG_EXIT:
		fprintf(f, " exception %u pc %llx dr6 %llx dr7 %llx", e->reason, e->pc, e->dr6,
			e->dr7);
		break;
	}
	fprintf(f, "\n");
}

void dw_state_event(struct dw_state *s, const struct dw_event *e)
{
	struct dw_vcpu *v = find(s, e->vm, e->vcpu);

	s->events++;
	if (s->log)
		log_event(s, e);
	if (!v)
		return;
	/* A dr_load and its entry are one stretch with interrupts off, on one CPU. */
	if (v->entry_due && (e->kind != DW_ENTRY || e->cpu != v->dr_cpu))
		v->unentered++;
	v->entry_due = 0;
	switch (e->kind) {
	case DW_LOAD:
		v->loads++;
		if (v->last_put_preempt)
			v->preempt_loads++;
		if (v->load_cpu >= 0 && v->load_cpu != e->cpu)
			v->new_cpu_loads++;
		v->load_cpu = e->cpu;
		v->last_tid = e->tid;
		v->sdr = e->sdr;
		v->pending = 1;
		break;
	case DW_PUT:
		v->puts++;
		if (e->preempt)
			v->preempt_puts++;
		else
			v->ioctl_puts++;
		v->last_put_preempt = e->preempt;
		v->sdr = e->sdr;
		break;
	case DW_DR_LOAD:
		v->dr_loads++;
		if (e->reason & DW_WHY_RELOAD)
			v->reloads++;
		if (e->reason & DW_WHY_STALE)
			v->stale_loads++;
		v->sdr = e->sdr;
		if (v->pending) {
			if (e->reason & DW_WHY_RELOAD)
				v->load_reloads++;
			else if ((e->sdr & ARMED) ||
				 (e->reason & (DW_WHY_BP_ENABLED | DW_WHY_WONT_EXIT)))
				miss(s, v, e, "dr_load without RELOAD");
			v->pending = 0;
		}
		v->dr_cpu = e->cpu;
		v->entry_due = 1;
		if (cpu_ok(e->cpu))
			s->dr_owner[e->cpu] = (int)(v - s->v) + 1;
		/* The entry that follows (dbgkvm_guest_entry) clears RELOAD. */
		v->sdr &= ~DW_SDR_RELOAD;
		break;
	case DW_ENTRY:
		/* Interrupts are off from the dr_load (if any) to here: no load in between. */
		v->entries++;
		s->entries_seen++;
		v->sdr = e->sdr;
		if (v->pending && (e->sdr & ARMED))
			miss(s, v, e, "guest entry with no dr_load");
		v->pending = 0;
		/* The world switch follows: the entry clears RELOAD. */
		v->sdr &= ~DW_SDR_RELOAD;
		break;
	case DW_DR_SYNC:
		/* The guest wrote the hardware registers itself (WONT_EXIT): they are its own
		 * on this CPU now, as after a dr_load. */
		v->syncs++;
		v->sdr = e->sdr;
		v->dr_cpu = e->cpu;
		if (cpu_ok(e->cpu))
			s->dr_owner[e->cpu] = (int)(v - s->v) + 1;
		break;
	case DW_DEBUG_EXIT:
		v->debug_exits++;
		v->sdr = e->sdr;
		break;
	}
}

__u64 dw_state_missed(const struct dw_state *s)
{
	__u64 n = 0;
	int i;

	for (i = 0; i < s->nr; i++)
		n += s->v[i].missed;
	return n;
}

__u64 dw_state_unentered(const struct dw_state *s)
{
	__u64 n = 0;
	int i;

	for (i = 0; i < s->nr; i++)
		n += s->v[i].unentered;
	return n;
}

void dw_state_summary(const struct dw_state *s, FILE *f, int have_entries, __u64 drops)
{
	int i;

	fprintf(f, "%4s %4s %7s %7s %7s %7s %7s %7s %8s %8s %7s %7s %7s %6s %7s %6s\n", "vm",
		"vcpu", "loads", "puts", "p_puts", "i_puts", "p_loads", "newcpu", "entries",
		"dr_loads", "reloads", "st_lds", "syncs", "dbgex", "missed", "stale");
	for (i = 0; i < s->nr; i++) {
		const struct dw_vcpu *v = &s->v[i];

		fprintf(f, "%4u %4u %7llu %7llu %7llu %7llu %7llu %7llu ", v->vm, v->vcpu, v->loads,
			v->puts, v->preempt_puts, v->ioctl_puts, v->preempt_loads,
			v->new_cpu_loads);
		if (have_entries)
			fprintf(f, "%8llu ", v->entries);
		else
			fprintf(f, "%8s ", "-");
		fprintf(f, "%8llu %7llu %7llu %7llu %6llu %7llu %6llu\n", v->dr_loads, v->reloads,
			v->stale_loads, v->syncs, v->debug_exits, v->missed, v->missed_stale);
	}
	fprintf(f, "drwatch: %llu events, %d vCPUs, %llu missed reloads%s%s", s->events, s->nr,
		dw_state_missed(s), have_entries ? "" : ", guest entries not traced (--no-entry)",
		s->overflow ? ", too many vCPUs: some not followed" : "");
	if (have_entries && dw_state_unentered(s))
		fprintf(f, ", %llu dr_loads not followed by their guest entry",
			dw_state_unentered(s));
	if (drops)
		fprintf(f, ", %llu events LOST (ring buffer full): counts are low", drops);
	fprintf(f, "\n");
}
