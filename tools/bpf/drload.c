// SPDX-License-Identifier: GPL-2.0
/*
 * drload: a workload for drwatch and the .bt scripts. VMs whose guests own their debug
 * registers, their vCPU threads sharing CPU 0 (and one roaming between CPU 0 and 1), for
 * a few seconds; then one line per VM. Exit status 1 if a guest found debug registers
 * that were not its own, or a VM failed.
 *
 *   drload [-n VMS] [-t SECONDS] [-s SPIN] [--no-roam] [DEVICE]   (default /dev/dbgkvm)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include "workload.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"no-roam", no_argument, NULL, 'R'},
	    {NULL, 0, NULL, 0},
	};
	struct wl_opts o = {"/dev/dbgkvm", 3, 1, 5.0, 1000000};
	struct wl_result r;
	int c, i, bad = 0;

	while ((c = getopt_long(argc, argv, "n:t:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o.nvms = atoi(optarg);
			break;
		case 't':
			o.seconds = atof(optarg);
			break;
		case 's':
			o.spin = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'R':
			o.roam = 0;
			break;
		default:
			fprintf(
			    stderr,
			    "usage: drload [-n VMS] [-t SECONDS] [-s SPIN] [--no-roam] [DEVICE]\n");
			return 2;
		}
	}
	if (optind < argc)
		o.dev = argv[optind];
	if (wl_run(&o, &r))
		bad = 1;
	for (i = 0; i < r.nvms; i++) {
		const struct wl_vm *v = &r.vm[i];

		printf("drload: vm %d%s tid %d: %llu runs, %llu checks ok, %llu wrong", i,
		       v->roams ? " (roams)" : "", v->tid, v->runs, v->passes, v->bad);
		if (v->bad)
			printf(" (last found 0x%llx)", v->last_bad);
		if (v->error[0])
			printf(", error: %s", v->error);
		printf("\n");
		if (v->bad || v->error[0] || !v->passes)
			bad = 1;
	}
	return bad;
}
