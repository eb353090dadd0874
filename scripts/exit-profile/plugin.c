// SPDX-License-Identifier: GPL-2.0
/*
 * exitprof QEMU TCG plugin (used by scripts/exit-profile.sh): counts the guest
 * instructions executed per guest virtual address, only inside windows that the
 * guest itself opens and closes with marker instructions.
 *
 * A marker is the 7-byte NOP `nopl 0x4652xxxx(%rax)` (0f 1f 80 imm32) whose
 * displacement is 0x46520000 + id: executing marker `id` on vCPU v closes v's
 * current window (dumping its counts to the output file) and opens window `id`
 * (id 0 only closes). Marker NOPs are harmless on any CPU, so the probe binary
 * runs unchanged without the plugin.
 *
 * Counting is per translation block: every TB executed on a vCPU inside a window
 * adds one to that TB's counter; each instruction of the TB is credited with it.
 * A TB left early by an exception (e.g. an intercepted CPUID in L2) is counted
 * whole; TBs in the kernel rarely are.
 *
 * Output (out=PATH): "window ID VCPU", "other_vcpus N" (instructions the other
 * vCPUs executed during the window), then "ADDR COUNT" lines (hex address, decimal
 * instructions executed on the window's vCPU) and "o ADDR COUNT" lines (the same
 * for the other vCPUs), then "end". Under -icount in single-threaded TCG the guest
 * clock counts the instructions of all vCPUs, so the other vCPUs' work shows up in
 * a benchmark's guest-clock time.
 *
 * Only the long-stable plugin API is declared here (no qemu-plugin.h needed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
struct qemu_info_t;
enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS,
	QEMU_PLUGIN_CB_R_REGS,
	QEMU_PLUGIN_CB_RW_REGS
};
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
					  enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
size_t qemu_plugin_insn_data(const struct qemu_plugin_insn *insn, void *dest, size_t len);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

#ifndef EXITPROF_PLUGIN_VERSION
#define EXITPROF_PLUGIN_VERSION 4 /* QEMU 10.0 */
#endif
__attribute__((visibility("default"))) int qemu_plugin_version = EXITPROF_PLUGIN_VERSION;

#define MAX_VCPUS 64
#define MARK_BASE 0x46520000u

struct tbrec {
	struct tbrec *next_touched; /* list of records counted in the current windows */
	uint64_t count;		    /* executions on the window's vCPU */
	uint64_t other;		    /* executions on the other vCPUs meanwhile */
	int touched;
	unsigned n;
	uint64_t vaddr[];
};

static FILE *out;
static int active[MAX_VCPUS]; /* open window id per vCPU, 0 = none */
static struct tbrec *touched; /* records counted in the open window */
static unsigned long windows;
static int open_vcpu = -1;   /* the vCPU whose window is open (one at a time) */
static uint64_t other_vcpus; /* instructions the other vCPUs ran meanwhile */

static void dump(unsigned vcpu)
{
	struct tbrec *r, *next;

	fprintf(out, "window %d %u\n", active[vcpu], vcpu);
	fprintf(out, "other_vcpus %llu\n", (unsigned long long)other_vcpus);
	other_vcpus = 0;
	open_vcpu = -1;
	for (r = touched; r; r = next) {
		next = r->next_touched;
		for (unsigned i = 0; i < r->n; i++) {
			if (r->count)
				fprintf(out, "%llx %llu\n", (unsigned long long)r->vaddr[i],
					(unsigned long long)r->count);
			if (r->other)
				fprintf(out, "o %llx %llu\n", (unsigned long long)r->vaddr[i],
					(unsigned long long)r->other);
		}
		r->count = 0;
		r->other = 0;
		r->touched = 0;
		r->next_touched = NULL;
	}
	touched = NULL;
	fprintf(out, "end\n");
	fflush(out);
	windows++;
}

static void tb_exec(unsigned int vcpu, void *udata)
{
	struct tbrec *r = udata;

	/* One vCPU thread at a time (thread=single), one window open at a time. */
	if (open_vcpu < 0)
		return;
	if (!r->touched) {
		r->touched = 1;
		r->next_touched = touched;
		touched = r;
	}
	if ((int)vcpu == open_vcpu) {
		r->count++;
	} else {
		r->other++;
		other_vcpus += r->n;
	}
}

static void marker_exec(unsigned int vcpu, void *udata)
{
	int id = (int)(uintptr_t)udata;

	if (vcpu >= MAX_VCPUS)
		return;
	if (active[vcpu])
		dump(vcpu);
	active[vcpu] = id;
	if (id) {
		open_vcpu = vcpu;
		other_vcpus = 0;
	}
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);
	struct tbrec *r = calloc(1, sizeof(*r) + n * sizeof(uint64_t));
	(void)id;

	r->n = n;
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint8_t b[8];

		r->vaddr[i] = qemu_plugin_insn_vaddr(insn);
		if (qemu_plugin_insn_size(insn) == 7 && qemu_plugin_insn_data(insn, b, 7) == 7 &&
		    b[0] == 0x0f && b[1] == 0x1f && b[2] == 0x80) {
			uint32_t disp = b[3] | b[4] << 8 | b[5] << 16 | (uint32_t)b[6] << 24;

			if ((disp & 0xffff0000u) == MARK_BASE)
				qemu_plugin_register_vcpu_insn_exec_cb(
				    insn, marker_exec, QEMU_PLUGIN_CB_NO_REGS,
				    (void *)(uintptr_t)(disp & 0xffff));
		}
	}
	qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, r);
}

static void at_exit(qemu_plugin_id_t id, void *udata)
{
	char msg[128];
	(void)id;
	(void)udata;

	for (unsigned v = 0; v < MAX_VCPUS; v++)
		if (active[v])
			dump(v);
	snprintf(msg, sizeof(msg), "exitprof: %lu windows written\n", windows);
	qemu_plugin_outs(msg);
	fclose(out);
}

__attribute__((visibility("default"))) int
qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info, int argc, char **argv)
{
	const char *path = "exitprof.out";
	(void)info;

	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			path = argv[i] + 4;
	out = fopen(path, "w");
	if (!out) {
		perror(path);
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
