// SPDX-License-Identifier: GPL-2.0
/* Host check of drwatch's judge (dwstate.c) on synthetic event streams: TAP. */
#include <stdio.h>
#include <string.h>
#include "dwstate.h"

static struct dw_state s;
static int nr, failed;

static void ev(__u32 kind, __u32 vm, __u32 vcpu, int cpu, __u32 sdr, __u32 reason, __u32 preempt)
{
	struct dw_event e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.vm = vm;
	e.vcpu = vcpu;
	e.cpu = cpu;
	e.sdr = sdr;
	e.reason = reason;
	e.preempt = preempt;
	dw_state_event(&s, &e);
}

static void expect(int ok, const char *what)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++nr, what);
	failed += !ok;
}

#define BP DW_SDR_BP_ENABLED
#define WE DW_SDR_WONT_EXIT
#define RL DW_SDR_RELOAD

int main(void)
{
	printf("1..12\n");

	/* The 2016 fix: RELOAD after every load, including the one after preemption. */
	dw_state_init(&s);
	ev(DW_LOAD, 1, 0, 0, RL | BP, 0, 0);
	ev(DW_DR_LOAD, 1, 0, 0, RL | BP, DW_WHY_RELOAD | DW_WHY_BP_ENABLED, 0);
	ev(DW_ENTRY, 1, 0, 0, RL | BP, 0, 0); /* sdr as the entry plan found it */
	ev(DW_PUT, 1, 0, 0, BP, 0, 1);
	ev(DW_LOAD, 1, 0, 1, RL | BP, 0, 0);
	ev(DW_DR_LOAD, 1, 0, 1, RL | BP, DW_WHY_RELOAD | DW_WHY_BP_ENABLED, 0);
	ev(DW_ENTRY, 1, 0, 1, RL | BP, 0, 0);
	ev(DW_ENTRY, 1, 0, 1, BP, 0, 0); /* no load in between: nothing to reload */
	ev(DW_PUT, 1, 0, 1, BP, 0, 0);
	expect(dw_state_missed(&s) == 0 && s.v[0].load_reloads == 2 && s.v[0].reloads == 2 &&
		   dw_state_unentered(&s) == 0,
	       "reload after each load: nothing missed, each dr_load followed by its entry");
	expect(s.v[0].preempt_puts == 1 && s.v[0].ioctl_puts == 1 && s.v[0].preempt_loads == 1 &&
		   s.v[0].new_cpu_loads == 1 && s.v[0].entries == 3,
	       "counts: preemption vs ioctl puts, loads after preemption, loads on a new CPU");

	/* The 2016 bug: the load set no RELOAD; BP_ENABLED still loads, without RELOAD. */
	dw_state_init(&s);
	ev(DW_LOAD, 1, 0, 0, BP, 0, 0);
	ev(DW_DR_LOAD, 1, 0, 0, BP, DW_WHY_BP_ENABLED, 0);
	ev(DW_ENTRY, 1, 0, 0, BP, 0, 0);
	expect(dw_state_missed(&s) == 1, "dr_load without RELOAD after a load, armed: missed");

	/* Guest-owned DRs and no dr_load at all before the entry. */
	dw_state_init(&s);
	ev(DW_LOAD, 1, 0, 0, WE, 0, 0);
	ev(DW_ENTRY, 1, 0, 0, WE, 0, 0);
	ev(DW_DR_SYNC, 1, 0, 0, 0, 0, 0); /* after the world switch */
	ev(DW_ENTRY, 1, 0, 0, 0, 0, 0);	  /* no load since the last entry */
	expect(dw_state_missed(&s) == 1 && s.v[0].entries == 2,
	       "entry with no dr_load after a load, WONT_EXIT: missed once");

	/* Armed by the time of the entry (the entry's own switch_db_regs), not at the load. */
	dw_state_init(&s);
	ev(DW_LOAD, 1, 0, 0, 0, 0, 0);
	ev(DW_ENTRY, 1, 0, 0, BP, 0, 0);
	expect(dw_state_missed(&s) == 1, "entry armed with no dr_load after a load: missed");

	/* Nothing armed: no reload needed. */
	dw_state_init(&s);
	ev(DW_LOAD, 1, 0, 0, 0, 0, 0);
	ev(DW_ENTRY, 1, 0, 0, 0, 0, 0);
	ev(DW_PUT, 1, 0, 0, 0, 0, 0);
	expect(dw_state_missed(&s) == 0, "not armed, no dr_load: nothing missed");

	/* Without guest entries (drwatch --no-entry), only dr_load reasons judge. */
	dw_state_init(&s);
	ev(DW_LOAD, 1, 0, 0, BP, 0, 0);
	ev(DW_PUT, 1, 0, 0, BP, 0, 0);
	ev(DW_LOAD, 1, 0, 0, BP, 0, 0);
	ev(DW_DR_LOAD, 1, 0, 0, BP, DW_WHY_BP_ENABLED, 0);
	expect(dw_state_missed(&s) == 1, "a miss is counted once per load");

	/* Stale: another vCPU loaded its DRs on this CPU since. */
	dw_state_init(&s);
	ev(DW_LOAD, 1, 0, 0, RL | BP, 0, 0);
	ev(DW_DR_LOAD, 1, 0, 0, RL | BP, DW_WHY_RELOAD | DW_WHY_BP_ENABLED, 0);
	ev(DW_PUT, 1, 0, 0, BP, 0, 1);
	ev(DW_LOAD, 2, 0, 0, RL | BP, 0, 0);
	ev(DW_DR_LOAD, 2, 0, 0, RL | BP, DW_WHY_RELOAD | DW_WHY_BP_ENABLED, 0);
	ev(DW_PUT, 2, 0, 0, BP, 0, 1);
	ev(DW_LOAD, 1, 0, 0, BP, 0, 0);
	ev(DW_DR_LOAD, 1, 0, 0, BP, DW_WHY_BP_ENABLED, 0);
	expect(s.nr == 2 && s.v[0].missed == 1 && s.v[0].missed_stale == 1 && s.v[1].missed == 0,
	       "missed after another vCPU used the DRs on this CPU: stale");

	/* Same CPU, nobody else: still a miss (the host may have used them), not stale. */
	dw_state_init(&s);
	ev(DW_LOAD, 1, 0, 0, RL | BP, 0, 0);
	ev(DW_DR_LOAD, 1, 0, 0, RL | BP, DW_WHY_RELOAD | DW_WHY_BP_ENABLED, 0);
	ev(DW_PUT, 1, 0, 0, BP, 0, 1);
	ev(DW_LOAD, 1, 0, 0, BP, 0, 0);
	ev(DW_DR_LOAD, 1, 0, 0, BP, DW_WHY_BP_ENABLED, 0);
	expect(s.v[0].missed == 1 && s.v[0].missed_stale == 0, "missed on the same CPU: not stale");

	/* A sync clears WONT_EXIT: the next load's entry needs no reload. */
	dw_state_init(&s);
	ev(DW_LOAD, 1, 0, 0, RL, 0, 0);
	ev(DW_DR_LOAD, 1, 0, 0, RL | WE, DW_WHY_RELOAD | DW_WHY_WONT_EXIT, 0);
	ev(DW_ENTRY, 1, 0, 0, RL | WE, 0, 0);
	ev(DW_DR_SYNC, 1, 0, 0, 0, 0, 0);
	ev(DW_PUT, 1, 0, 0, 0, 0, 0);
	ev(DW_LOAD, 1, 0, 0, 0, 0, 0);
	ev(DW_ENTRY, 1, 0, 0, 0, 0, 0);
	expect(dw_state_missed(&s) == 0 && s.v[0].syncs == 1,
	       "after dr_sync, not armed: nothing missed");

	/* The module found other values (reason STALE) and reloaded without RELOAD. */
	dw_state_init(&s);
	ev(DW_LOAD, 1, 0, 0, BP, 0, 0);
	ev(DW_DR_LOAD, 1, 0, 0, BP, DW_WHY_STALE | DW_WHY_BP_ENABLED, 0);
	ev(DW_ENTRY, 1, 0, 0, BP, 0, 0);
	ev(DW_DR_LOAD, 1, 0, 0, BP, DW_WHY_STALE | DW_WHY_BP_ENABLED, 0); /* loaded: no miss */
	expect(s.v[0].missed == 1 && s.v[0].missed_stale == 1 && s.v[0].stale_loads == 2,
	       "STALE reason: a miss after a load is stale; STALE loads are counted");

	/* The order: a dr_load is directly followed by its entry, on the same CPU. */
	dw_state_init(&s);
	ev(DW_LOAD, 1, 0, 0, RL | BP, 0, 0);
	ev(DW_DR_LOAD, 1, 0, 0, RL | BP, DW_WHY_RELOAD | DW_WHY_BP_ENABLED, 0);
	ev(DW_PUT, 1, 0, 0, BP, 0, 1); /* no entry in between */
	ev(DW_LOAD, 1, 0, 1, RL | BP, 0, 0);
	ev(DW_DR_LOAD, 1, 0, 1, RL | BP, DW_WHY_RELOAD | DW_WHY_BP_ENABLED, 0);
	ev(DW_ENTRY, 1, 0, 0, RL | BP, 0, 0); /* on another CPU */
	ev(DW_DR_LOAD, 1, 0, 0, BP, DW_WHY_STALE | DW_WHY_BP_ENABLED, 0);
	ev(DW_ENTRY, 1, 0, 0, BP, 0, 0);
	expect(s.v[0].unentered == 2 && s.v[0].entries == 2,
	       "dr_load not directly followed by its entry on its CPU: counted");

	printf("# dwstate_check: %d passed, %d failed\n", nr - failed, failed);
	return failed != 0;
}
