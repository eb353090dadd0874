// SPDX-License-Identifier: GPL-2.0
/*
 * drwatch_test: drwatch's judge, live, next to drload's workload, in the test machine
 * (TAP, for scripts/vmtest.sh --tests build/bpf/tests).
 *
 * The workload: VMs whose real-mode guests own their debug registers (DR0-3 and an
 * armed DR7 of their own) and read them back between spins; their vCPU threads share
 * CPU 0, so they are preempted in the middle of KVM_RUN, and one more vCPU thread is
 * moved between CPU 0 and 1 while it runs. Meanwhile drwatch's BPF programs follow the
 * dbgkvm trace events. What is expected:
 *   1 every VM ran, and its guest checked its registers;
 *   2 the guests always found their own DR0-3/DR7 (judged on KVM too; on dbgkvm skipped
 *     when wrong values are expected: no debug-register switching, KVM_CAP_DEBUGREGS = 0,
 *     or the injected no_reload_on_load=1);
 *   3 vcpu_load/vcpu_put for every vCPU, as many puts as loads;
 *   4 preemption puts (sched_out) and the loads that follow them (sched_in);
 *   5 loads on a new CPU (the roaming vCPU; needs 2 CPUs);
 *   6 guest entries traced (dbgkvm_guest_entry, before the world switch) for every
 *     vCPU, each dr_load directly followed by its vCPU's entry on the same CPU (the order
 *     the judge relies on: vcpu_load, dr_load if any, guest_entry, world switch);
 *   7 after vcpu_load, dr_load with RELOAD for every vCPU (the 2016 fix) - skipped while
 *     there are no dr_load events and KVM_CAP_DEBUGREGS = 0 (integration not in);
 *   8 no missed reload: no dr_load without RELOAD, and no guest entry without a dr_load,
 *     after a vcpu_load while the vCPU is armed. With dbgkvm.no_reload_on_load=1 (the
 *     2016 bug, injected), the opposite: drwatch must report missed reloads (the entries
 *     with no dr_load: the knob also turns off the module's check before entries).
 * Tests 3-8 need dbgkvm (DBGKVM_DEV=/dev/dbgkvm); against KVM they are skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "dwbpf.h"
#include "workload.h"

static int nr_test;

static void result(int ok, const char *skip, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void result(int ok, const char *skip, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok || skip ? "" : "not ", ++nr_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (skip)
		printf(" # SKIP %s", skip);
	printf("\n");
}

/* Lines of a memstream buffer as TAP comments, at most max of them. */
static void comment(const char *buf, int max)
{
	const char *p = buf, *nl;
	int n = 0;

	while (p && *p) {
		nl = strchr(p, '\n');
		if (n++ < max)
			printf("# %.*s\n", nl ? (int)(nl - p) : (int)strlen(p), p);
		p = nl ? nl + 1 : NULL;
	}
	if (n > max)
		printf("# ... %d more lines\n", n - max);
}

struct wl_thread {
	struct wl_opts o;
	struct wl_result r;
	int rc;
	volatile int done;
};

static void *wl_thread(void *arg)
{
	struct wl_thread *t = arg;

	t->rc = wl_run(&t->o, &t->r);
	t->done = 1;
	return NULL;
}

static int read_param(const char *name)
{
	char path[128], c = 0;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/dbgkvm/parameters/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y' || c == '1';
}

static int check_extension(const char *dev, int cap)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = ioctl(fd, KVM_CHECK_EXTENSION, cap);
	close(fd);
	return r;
}

int main(void)
{
	static struct dw_state s;
	static struct wl_thread w;
	const char *dev = getenv("DBGKVM_DEV") ?: "/dev/dbgkvm";
	const char *secs = getenv("DRWATCH_TEST_SECONDS");
	int dbgkvm = strstr(dev, "dbgkvm") && access("/sys/module/dbgkvm", F_OK) == 0;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN), knob = read_param("no_reload_on_load");
	int cap_dr = check_extension(dev, KVM_CAP_DEBUGREGS), i, n;
	char *errbuf = NULL, *sumbuf = NULL;
	size_t errlen = 0, sumlen = 0;
	unsigned long long passes = 0, bad = 0, drl = 0;
	__u64 loads = 0, puts = 0, ppu = 0, plo = 0, newcpu = 0, missed, drops = 0;
	struct dw_bpf *b = NULL;
	const char *why;
	pthread_t th;
	FILE *sum;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..8\n");
	printf("# device %s, %d CPUs, KVM_CAP_DEBUGREGS %d, no_reload_on_load %d\n", dev, ncpu,
	       cap_dr, knob);
	dw_state_init(&s);
	s.err = open_memstream(&errbuf, &errlen);
	if (dbgkvm) {
		b = dw_bpf_open(&s, 1);
		if (!b) {
			/* Every dbgkvm check below depends on it: say so once, fail them all. */
			printf("# drwatch could not attach (see above)\n");
		}
	}

	w.o.dev = dev;
	w.o.nvms = 3;
	w.o.roam = ncpu >= 2;
	w.o.seconds = secs ? atof(secs) : 4.0;
	w.o.spin = 1000000;
	if (pthread_create(&th, NULL, wl_thread, &w)) {
		printf("Bail out! pthread_create\n");
		return 1;
	}
	/* Drain while the workload runs: the ring buffer would fill up otherwise. */
	while (!w.done)
		if (b && dw_bpf_poll(b, 50) < 0)
			break;
		else if (!b)
			usleep(50000);
	pthread_join(th, NULL);
	if (b) {
		dw_bpf_poll(b, 0);
		drops = dw_bpf_drops(b);
	}
	fflush(s.err);

	/* 1, 2: the workload, judged by the guests themselves. */
	n = w.r.nvms;
	for (i = 0; i < n; i++) {
		const struct wl_vm *v = &w.r.vm[i];

		printf("# vm %d%s tid %d: %llu runs, %llu checks ok, %llu wrong", i,
		       v->roams ? " (roams)" : "", v->tid, v->runs, v->passes, v->bad);
		if (v->bad)
			printf(" (last found 0x%llx)", v->last_bad);
		printf("%s%s\n", v->error[0] ? ", error: " : "", v->error);
		passes += v->passes;
		bad += v->bad;
	}
	{
		int ran = w.rc == 0;

		for (i = 0; i < n; i++)
			ran = ran && w.r.vm[i].passes > 0 && !w.r.vm[i].error[0];
		result(ran, NULL, "workload: %d VMs ran, their guests checked DR0-3/DR7 %llu times",
		       n, passes);
	}
	why = !dbgkvm	    ? NULL
	      : cap_dr <= 0 ? "dbgkvm has no debug-register switching yet (KVM_CAP_DEBUGREGS = 0)"
	      : knob	    ? "no_reload_on_load=1: stale registers are the injected bug"
			    : NULL;
	result(bad == 0, bad ? why : NULL,
	       "guests always found their own debug registers (%llu wrong)", bad);

	/* 3-8: the trace events, judged by drwatch. */
	if (b) {
		sum = open_memstream(&sumbuf, &sumlen);
		dw_state_summary(&s, sum, 1, drops);
		fclose(sum);
		comment(sumbuf, 40);
		for (i = 0; i < s.nr; i++) {
			loads += s.v[i].loads;
			puts += s.v[i].puts;
			ppu += s.v[i].preempt_puts;
			plo += s.v[i].preempt_loads;
			newcpu += s.v[i].new_cpu_loads;
			drl += s.v[i].dr_loads;
		}
	}
	why = dbgkvm ? NULL : "not dbgkvm";
	{
		int each = b && s.nr >= n;

		for (i = 0; b && i < s.nr; i++)
			each = each && s.v[i].loads > 0 && s.v[i].loads == s.v[i].puts;
		result(each, why,
		       "vcpu_load/vcpu_put for each of the %d vCPUs (%d seen), as many puts as "
		       "loads (%llu, %llu)",
		       n, s.nr, loads, puts);
	}
	result(b && ppu > 0 && plo > 0, why,
	       "preemption: %llu puts on sched_out, %llu loads on sched_in", ppu, plo);
	result(b && newcpu > 0,
	       why
		   ?: ncpu < 2 ? "one CPU: nowhere to move"
			       : NULL,
	       "%llu loads on a new CPU", newcpu);
	{
		int each = b && s.nr >= n;
		__u64 unentered = dw_state_unentered(&s);

		for (i = 0; b && i < s.nr; i++)
			each = each && s.v[i].entries > 0 && s.v[i].entries >= s.v[i].dr_loads;
		result(each && unentered == 0, why,
		       "%llu guest entries traced for the %d vCPUs, each dr_load followed by its "
		       "entry (%llu not)",
		       s.entries_seen, s.nr, unentered);
	}
	{
		int each = b && s.nr >= n;
		const char *skip = why;

		for (i = 0; b && i < s.nr; i++)
			each = each && s.v[i].load_reloads > 0;
		if (!skip && knob)
			skip = "no_reload_on_load=1: vcpu_load sets no RELOAD";
		if (!skip && drl == 0 && cap_dr <= 0)
			skip = "no dr_load events: the debug-register integration is not in "
			       "(KVM_CAP_DEBUGREGS = 0)";
		result(each, skip,
		       "every vCPU reloaded its debug registers after vcpu_load (%llu dr_loads)",
		       drl);
	}
	missed = dw_state_missed(&s);
	if (knob)
		result(b && missed > 0, why,
		       "drwatch caught %llu missed reloads (no_reload_on_load=1 injects them)",
		       missed);
	else
		result(b && missed == 0 && drops == 0, why,
		       "no missed reload (%llu missed, %llu events lost)", missed, drops);
	fclose(s.err);
	comment(errbuf, 10);
	dw_bpf_close(b);
	free(errbuf);
	free(sumbuf);
	return 0;
}
