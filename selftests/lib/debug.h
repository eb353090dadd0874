/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the debug-register tests: the KVM_SET_GUEST_DEBUG /
 * KVM_GET/SET_DEBUGREGS ioctls, KVM_EXIT_DEBUG checks, and a long-mode guest
 * with an IDT whose handlers (lib/debug_rt.S) record every exception in guest
 * memory (dbg_layout.h), so a test can see what the guest's own #DB handler saw.
 */
#ifndef SELFTESTS_LIB_DEBUG_H
#define SELFTESTS_LIB_DEBUG_H

#include "dbg_layout.h"
#include "guest.h"
#include "kvm.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kt
{

/* DR6 (SDM Vol. 3B 17.2.3; KVM's names). */
constexpr uint64_t DR6_ACTIVE_LOW = 0xffff0ff0; /* reset value: fixed-1 and active-low bits */
constexpr uint64_t DR6_BD = 1ull << 13;		/* debug register access detected (DR7.GD) */
constexpr uint64_t DR6_BS = 1ull << 14;		/* single step */
constexpr uint64_t DR6_TRAP_BITS = 0xf;		/* B0-B3 */
/* DR7 (SDM 17.2.4). */
constexpr uint64_t DR7_FIXED_1 = 0x400;
constexpr uint64_t DR7_GD = 1ull << 13;
constexpr uint64_t dr7_l(int n)
{
	return 1ull << (2 * n);
}
constexpr uint64_t dr7_g(int n)
{
	return 1ull << (2 * n + 1);
}
/* R/W: 0 execute, 1 write, 3 read/write; LEN: 0 1 byte, 1 2 bytes, 3 4 bytes, 2 8 bytes. */
constexpr uint64_t dr7_rwlen(int n, unsigned rw, unsigned len)
{
	return (uint64_t)((len << 2) | rw) << (16 + 4 * n);
}

/* KVM_GUESTDBG_* (<linux/kvm.h>, arch/x86/include/uapi/asm/kvm.h). */
constexpr uint32_t GUESTDBG_ENABLE = 0x1;
constexpr uint32_t GUESTDBG_SINGLESTEP = 0x2;
constexpr uint32_t GUESTDBG_USE_SW_BP = 0x10000;
constexpr uint32_t GUESTDBG_USE_HW_BP = 0x20000;
constexpr uint32_t GUESTDBG_INJECT_DB = 0x40000;
constexpr uint32_t GUESTDBG_INJECT_BP = 0x80000;
constexpr uint32_t GUESTDBG_BLOCKIRQ = 0x100000;
constexpr uint32_t GUESTDBG_VALID_MASK = 0x1f0003; /* x86's KVM_GUESTDBG_VALID_MASK */

/* DB_VECTOR (1), BP_VECTOR (3), UD_VECTOR (6), GP_VECTOR (13) come from <asm/kvm.h>. */

/* KVM_SET_GUEST_DEBUG; returns 0 or -errno. debugreg: DR0-3 and DR7 (index 7), or null. */
int set_guest_debug(Vcpu &v, uint32_t control, const uint64_t *debugreg = nullptr);
/* The same, and it must succeed. */
void xset_guest_debug(Vcpu &v, uint32_t control, const uint64_t *debugreg = nullptr);
/* USE_HW_BP|ENABLE with one breakpoint: DRn = addr, DR7 = dr7. */
void set_hw_bp(Vcpu &v, int n, uint64_t addr, uint64_t dr7, uint32_t extra = 0);

kvm_debugregs get_debugregs(Vcpu &v);
void set_debugregs(Vcpu &v, const kvm_debugregs &d);

std::string describe_debug(const kvm_run *r);
/*
 * Runs and requires KVM_EXIT_DEBUG with this exception and pc. dr6/dr7 are
 * checked when given (>= 0). `what` names the case in the failure.
 */
void expect_debug_exit(Vcpu &v, const char *what, uint32_t exception, uint64_t pc, int64_t dr6 = -1,
		       int64_t dr7 = -1);

/* One exception the guest's handler saw. dr6_or_err: DR6 for #DB, else the error code. */
struct LogEntry {
	uint64_t vector;
	uint64_t rip;
	uint64_t dr6_or_err;
	uint64_t dr7;
};

/*
 * A 64-bit guest (the library's long-mode setup) with an IDT for vectors 0-31
 * pointing at the recording runtime, and a TSS/ring-3 GDT entries for
 * user_mode tests. Page tables get U/S so ring 3 can run the same code.
 */
struct DebugGuest {
	Vm vm;
	Vcpu vcpu;
	explicit DebugGuest(GuestCode code);

	uint64_t &u64(uint64_t gpa) { return vm.at<uint64_t>(gpa); }
	uint64_t param(int i) { return u64(DBG_PARAM + 8 * i); }
	void set_param(int i, uint64_t v) { u64(DBG_PARAM + 8 * i) = v; }
	uint64_t out(int i) { return u64(DBG_OUT + 8 * i); }
	uint64_t count() { return u64(DBG_COUNT); }
	std::vector<LogEntry> log();
	/* The first `max` entries of the handler's log, in words. */
	std::string describe_log(size_t max = 8);
	void clear_log();
	/* Starts the guest at `gpa` (RIP; RSP back to STACK_TOP, RFLAGS = 2). */
	void start_at(uint64_t gpa);
	/*
	 * Runs, recording PORT_REPORT values, until HLT; an unexpected exception
	 * (PORT_UNEXPECTED) or any other exit fails with the handler's log.
	 */
	std::vector<uint64_t> run_to_halt(unsigned max_exits = 100000);
	/* Runs until the next exit that is not a PORT_REPORT OUT; returns its reason. */
	uint32_t run_until_exit(std::vector<uint64_t> &reports, unsigned max_exits = 100000);
	[[noreturn]] void fail_exit(const char *expected);
};

/* Installs the IDT, runtime, TSS and ring-3 GDT entries in an existing long-mode guest. */
void install_debug_runtime(Vm &vm, Vcpu &vcpu);

std::string hex(uint64_t v);

} // namespace kt

#endif
