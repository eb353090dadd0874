// SPDX-License-Identifier: GPL-2.0
/*
 * drwatch: follow dbgkvm's vCPUs through vcpu_load/vcpu_put and the debug-register
 * loads, and report reloads that should have happened and did not (the 2016 missed
 * breakpoints, seeds 000/003). See tools/bpf/README.md.
 *
 *   drwatch [-d SECONDS] [-v] [-q] [--no-entry]
 *
 * Runs until SIGINT/SIGTERM or for SECONDS, then prints one line per vCPU. Exit status:
 * 0 no missed reload, 1 at least one, 2 could not start.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dwbpf.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: drwatch [-d SECONDS] [-v] [-q] [--no-entry]\n"
		   "  -d SECONDS   stop after SECONDS (default: at SIGINT/SIGTERM)\n"
		   "  -v           print every event\n"
		   "  -q           do not print each missed reload as it happens\n"
		   "  --no-entry   do not trace guest entries (dbgkvm_guest_entry, the most\n"
		   "               frequent event): judge only the dr_load reasons\n"
		   "exit status: 0 no missed reload, 1 missed reloads, 2 could not start\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"duration", required_argument, NULL, 'd'}, {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},		{"no-entry", no_argument, NULL, 'E'},
	    {"help", no_argument, NULL, 'h'},		{NULL, 0, NULL, 0},
	};
	static struct dw_state s; /* large: not on the stack */
	double duration = 0, t_end;
	int verbose = 0, quiet = 0, entry = 1, c;
	struct dw_bpf *b;
	__u64 drops;

	while ((c = getopt_long(argc, argv, "d:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			duration = atof(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'E':
			entry = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	dw_state_init(&s);
	s.log = verbose ? stdout : NULL;
	s.err = quiet ? NULL : stdout;
	b = dw_bpf_open(&s, entry);
	if (!b)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "drwatch: watching dbgkvm (guest entries %s)%s\n",
		entry ? "traced" : "not traced", duration > 0 ? "" : ", ^C to stop");
	setvbuf(stdout, NULL, _IOLBF, 0);
	t_end = duration > 0 ? now() + duration : 0;
	while (!stop && (!t_end || now() < t_end)) {
		if (dw_bpf_poll(b, 100) < 0) {
			fprintf(stderr, "drwatch: ring buffer poll failed\n");
			break;
		}
	}
	dw_bpf_poll(b, 0);
	drops = dw_bpf_drops(b);
	dw_state_summary(&s, stdout, entry, drops);
	dw_bpf_close(b);
	return dw_state_missed(&s) ? 1 : 0;
}
