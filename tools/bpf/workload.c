// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "workload.h"

extern const unsigned char dw_guest_start[], dw_guest_end[];

#define MEM_SIZE 0x10000
#define CODE_GPA 0x1000
#define PORT_OK	 0x10
#define PORT_BAD 0x11

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int pin(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set);
}

struct roamer {
	pid_t tid;
	volatile int stop;
};

/* Moves the vCPU thread between CPU 0 and 1 every few ms, mostly while it is in
 * KVM_RUN (the guest spins there), so that it is put on one CPU and loaded on the other. */
static void *roam(void *arg)
{
	struct roamer *r = arg;
	int cpu = 0;

	while (!r->stop) {
		cpu ^= 1;
		pin(r->tid, cpu);
		usleep(3000);
	}
	return NULL;
}

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(v->error, sizeof(v->error), __VA_ARGS__);                                 \
		return 1;                                                                          \
	} while (0)

static int run_vm(const struct wl_opts *o, int k, struct wl_vm *v)
{
	struct kvm_userspace_memory_region mr = {0};
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct roamer rm = {0};
	pthread_t th;
	struct kvm_run *run;
	int sys, vm, vcpu, r = 0;
	long mmap_size;
	double end;
	void *mem;

	v->tid = (int)syscall(SYS_gettid);
	if (!v->roams && pin(0, 0))
		FAIL("sched_setaffinity: %s", strerror(errno));
	sys = open(o->dev, O_RDWR | O_CLOEXEC);
	if (sys < 0)
		FAIL("open %s: %s", o->dev, strerror(errno));
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	if (vm < 0)
		FAIL("KVM_CREATE_VM: %s", strerror(errno));
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		FAIL("mmap: %s", strerror(errno));
	memcpy((char *)mem + CODE_GPA, dw_guest_start, dw_guest_end - dw_guest_start);
	mr.memory_size = MEM_SIZE;
	mr.userspace_addr = (unsigned long)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr))
		FAIL("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		FAIL("KVM_CREATE_VCPU: %s", strerror(errno));
	mmap_size = ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size <= 0)
		FAIL("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		FAIL("mmap vcpu: %s", strerror(errno));
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs))
		FAIL("KVM_GET_SREGS: %s", strerror(errno));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs))
		FAIL("KVM_SET_SREGS: %s", strerror(errno));
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rflags = 2;
	regs.rbx = (unsigned int)k;
	regs.rsi = o->spin;
	if (ioctl(vcpu, KVM_SET_REGS, &regs))
		FAIL("KVM_SET_REGS: %s", strerror(errno));

	if (v->roams) {
		rm.tid = v->tid;
		if (pthread_create(&th, NULL, roam, &rm))
			FAIL("pthread_create");
	}
	end = now() + o->seconds;
	while (now() < end) {
		v->runs++;
		if (ioctl(vcpu, KVM_RUN, 0)) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(v->error, sizeof(v->error), "KVM_RUN: %s", strerror(errno));
			r = 1;
			break;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.port == PORT_OK) {
			v->passes++;
		} else if (run->exit_reason == KVM_EXIT_IO &&
			   run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PORT_BAD &&
			   run->io.size == 4) {
			v->bad++;
			memcpy(&v->last_bad, (char *)run + run->io.data_offset, 4);
		} else {
			snprintf(v->error, sizeof(v->error),
				 "unexpected exit %u (io port 0x%x dir %u), internal suberror %u",
				 run->exit_reason, run->io.port, run->io.direction,
				 run->internal.suberror);
			r = 1;
			break;
		}
	}
	if (v->roams) {
		rm.stop = 1;
		pthread_join(th, NULL);
	}
	return r;
}

int wl_run(const struct wl_opts *o, struct wl_result *res)
{
	struct wl_result *shared;
	pid_t pids[WL_MAX_VMS];
	int i, n, r = 0, status;

	n = o->nvms + (o->roam ? 1 : 0);
	if (n > WL_MAX_VMS)
		n = WL_MAX_VMS;
	/* The children write their results here. */
	shared =
	    mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return -1;
	memset(shared, 0, sizeof(*shared));
	shared->nvms = n;
	for (i = 0; i < n; i++) {
		shared->vm[i].roams = o->roam && i == n - 1;
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(run_vm(o, i, &shared->vm[i]));
		if (pids[i] < 0) {
			snprintf(shared->vm[i].error, sizeof(shared->vm[i].error), "fork: %s",
				 strerror(errno));
			r = -1;
		}
	}
	for (i = 0; i < n; i++) {
		if (pids[i] <= 0)
			continue;
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			if (!shared->vm[i].error[0])
				snprintf(shared->vm[i].error, sizeof(shared->vm[i].error),
					 "VM process ended abnormally (status 0x%x)", status);
			r = -1;
		}
	}
	*res = *shared;
	munmap(shared, sizeof(*shared));
	return r;
}
