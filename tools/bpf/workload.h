/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drload's workload: VMs (one process and one vCPU each, as VMs belong to the process
 * that created them) whose real-mode guests own their debug registers and check them
 * (guest.S). The vCPU threads share CPU 0, so the host preempts them in the middle of
 * KVM_RUN; with `roam`, one more vCPU thread is moved between CPU 0 and CPU 1 while it
 * runs, so it is loaded on a new CPU.
 */
#ifndef WORKLOAD_H
#define WORKLOAD_H

#define WL_MAX_VMS 8

struct wl_opts {
	const char *dev; /* /dev/dbgkvm or /dev/kvm */
	int nvms;	 /* VMs pinned to CPU 0 */
	int roam;	 /* plus one VM moved between CPU 0 and 1 (needs 2 CPUs) */
	double seconds;
	unsigned int spin; /* guest spin count between two checks */
};

struct wl_vm {
	unsigned long long passes;   /* checks with DR0-3/DR7 intact */
	unsigned long long bad;	     /* checks that found another value */
	unsigned long long last_bad; /* the value found */
	unsigned long long runs;     /* KVM_RUN calls */
	int tid;		     /* the vCPU thread */
	int roams;		     /* 1: this is the roaming VM */
	char error[160];	     /* set when the VM could not run */
};

struct wl_result {
	int nvms;
	struct wl_vm vm[WL_MAX_VMS];
};

/* 0 when every VM ran to the end (guest-side mismatches are in the result). */
int wl_run(const struct wl_opts *o, struct wl_result *r);

#endif
