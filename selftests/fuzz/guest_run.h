/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One guest iteration: a fresh VM and vCPU in a mode, a generated program with its
 * IDT and page tables, and up to a few dozen KVM_RUNs, each under a one-shot timer.
 * Between runs, vCPU ioctls with their round-trip rules. Every exit is checked against
 * the ABI (the exit reasons a VMM can be given, I/O and MMIO fields in range, MMIO only
 * outside memory slots, KVM_EXIT_DEBUG only with guest debugging on), and counted loops
 * that report their checksum add their instructions to guest_insns.
 */
#ifndef SELFTESTS_FUZZ_GUEST_RUN_H
#define SELFTESTS_FUZZ_GUEST_RUN_H

#include "codegen.h"
#include "ctx.h"
#include "device.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fz
{

struct GuestOptions {
	kt::Mode mode = kt::Mode::Long64;
	/* guest_debug test: KVM_SET_GUEST_DEBUG with SINGLESTEP before most runs */
	bool single_step = false;
	/* for the differential test: only deterministic programs, no timers, results logged */
	bool deterministic = false;
	unsigned max_runs = 48;
};

/* What happened, for the differential test: one line per exit. */
struct GuestTrace {
	std::vector<std::string> lines;
};

void guest_iteration(Ctx &c, Device &d, const GuestOptions &o, GuestTrace *trace = nullptr);

/* KVM_SET_GUEST_DEBUG with random flags and breakpoints: what was asked, what came back. */
struct GuestDebugCall {
	uint32_t control;
	long ret;
	int err;
};
GuestDebugCall random_guest_debug(Ctx &c, Device &d, int vcpu_fd, uint64_t code_len,
				  uint32_t *active, bool real_mode = false);

/* GET_REGS, SET_REGS (maybe changed), GET_REGS: what was set must come back. */
void regs_round_trip(Ctx &c, int vcpu_fd, uint32_t guest_debug, bool mutate);
/*
 * QEMU's TCG lets a 64-bit guest clear CR0.PG (the hardware raises #GP): it leaves long
 * mode with CS.L still set, a state kvm_is_valid_sregs() refuses. Not the hypervisor's.
 */
bool qemu_left_long_mode(const kvm_sregs &s);
/* SET_SREGS(GET_SREGS()) must be accepted and change nothing (save/restore). */
void sregs_round_trip(Ctx &c, int vcpu_fd);
/* Under QEMU (qemu_tcg_bug()): the guest's DR0-3 start on the data page. */
void safe_initial_debugregs(Ctx &c, int vcpu_fd);
/* KVM_SET_DEBUGREGS, valid or not; a valid one reads back through KVM_GET_DEBUGREGS (DR6's
 * status bits excepted once the vCPU `ran`). */
void debugregs_round_trip(Ctx &c, int vcpu_fd, uint64_t code_len, bool real_mode = false,
			  bool ran = false);

} // namespace fz

#endif
