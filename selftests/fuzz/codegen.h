/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for the three modes: random bytes, or a structured program biased toward
 * what dbgkvm handles itself (MOV DR/CR, IN/OUT and their string forms, MMIO, INT3,
 * ICEBP, INT n, POPF with TF, MOV SS/POP SS shadows, STI, CPUID, RDMSR/WRMSR, HLT, UD2,
 * the guest's own breakpoints on its code and data), and the environment the program
 * runs in: an IDT (or real-mode IVT) of handler stubs, random or bad gates, page-table
 * entries pointing anywhere.
 *
 * Counted loops make guest instructions countable: `mov eax, tag; mov ecx, N; 1: add
 * eax, ecx; dec ecx; jnz 1b; out PORT_COUNT, eax` retires exactly 3N + 3 instructions
 * and reports tag + N(N+1)/2 (mod 2^32), a value nothing else produces by chance.
 */
#ifndef SELFTESTS_FUZZ_CODEGEN_H
#define SELFTESTS_FUZZ_CODEGEN_H

#include "guest.h"
#include "rng.h"

#include <cstdint>
#include <vector>

/* Ports of the fuzzer's guests, next to layout.h's PORT_REPORT (0xE9) and PORT_DONE. */
#define PORT_COUNT 0xEB /* OUT EAX: a counted loop's checksum */
#define PORT_EXC   0xEC /* OUT AL: an exception/interrupt handler stub ran (AL = vector) */

#define IDT_GPA	    0xC000		/* after the page directories (PD_GPA + 8 pages) */
#define STUBS_GPA   (CODE_GPA + 0xF000) /* handler stubs, 16 bytes per vector */
#define STUB_STRIDE 16

namespace fz
{

struct CountedLoop {
	uint32_t checksum; /* the value OUT to PORT_COUNT */
	uint64_t insns;	   /* instructions retired from its first MOV through the OUT */
	bool seen = false;
};

struct Program {
	std::vector<uint8_t> code; /* loaded at CODE_GPA */
	std::vector<CountedLoop> loops;
	bool random_bytes = false;
};

struct GenOptions {
	bool random_bytes = false; /* only random bytes (nothing countable) */
	bool mixed = false;	   /* structured, with random byte runs in between */
	unsigned max_len = 768;
	uint32_t max_loop = 200000; /* iterations of a counted loop */
	/* Only what KVM and dbgkvm must do alike: no MSRs, no CR writes (their CPUID differs). */
	bool deterministic = false;
	/* Breakpoint addresses only in the code, the data page and MMIO (qemu_tcg_bug()). */
	bool safe_breakpoints = false;
	/* With safe_breakpoints: no instruction breakpoint in any mode, not only in real mode.
	 * For guests whose mode others change under them (racing_threads: KVM_SET_SREGS of
	 * real-mode state), where a long-mode guest's instruction breakpoint stays armed
	 * with CS.base != 0 and QEMU's TCG segfaults (gdb_set_stop_cpu, qemu_tcg_bug()). */
	bool no_insn_breakpoints = false;
};

/*
 * QEMU 10.0's TCG (the qemu-svm machine) aborts (bql_lock_impl: assertion
 * !bql_locked()) or crashes when a nested guest's data breakpoint is hit by an implicit
 * access of an exception delivery (the IVT/IDT read, the stack pushes) and the guest
 * then executes HLT: `mov dr7, 0x31b504b4` (DR1: read/write, 8 bytes at linear 0) then
 * ICEBP, STI, HLT in real mode takes the emulator down, with dbgkvm and with kvm_amd.
 * And its instruction breakpoints compare the linear breakpoint address with EIP
 * (target/i386/tcg/system/bpt_helper.c, breakpoint_handler: cpu_breakpoint_test(cs,
 * env->eip, BP_CPU)): when CS.base is not 0, as in the real-mode guests (CS = 0x1000),
 * a breakpoint that matched at translation is not found at run time, the EXCP_DEBUG
 * goes to the absent gdbstub and QEMU segfaults in gdb_set_stop_cpu (a racing run with
 * KVM_SET_GUEST_DEBUG breakpoints on a real-mode guest's code, core dump). There the
 * fuzzer allows data breakpoints only on the data page and MMIO (the guests' DR0-3 start
 * on the data page, generated code arms data breakpoints only in DR3, aimed there), no
 * instruction breakpoints in real mode, and DR7 values the host sets go through
 * qemu_safe_dr7().
 */
bool qemu_tcg_bug();
/*
 * Under QEMU: DR7 without data breakpoints on addresses other than the data page/MMIO
 * and, for a real-mode guest (CS.base != 0), without instruction breakpoints.
 */
uint64_t qemu_safe_dr7(uint64_t dr7, const unsigned long long addr[4], bool real_mode);
/* A breakpoint address: code, data or MMIO; anything when !qemu_tcg_bug(). */
uint64_t breakpoint_target(Rng &r, uint64_t code_len);

Program generate(Rng &r, kt::Mode m, const GenOptions &o);

/* The IDT (protected/long mode) or IVT (real mode) and the stubs; returns the IDT limit. */
enum class IdtKind {
	None,	/* limit 0: every exception is a triple fault (KVM_EXIT_SHUTDOWN) */
	Stubs,	/* every vector reports on PORT_EXC and returns */
	Mixed,	/* stubs with random, non-present and malformed gates among them */
	Random, /* random bytes */
};
/* Writes the IDT/IVT and stubs into guest memory (`mem` is GPA 0..GUEST_MEM_SIZE). */
void write_idt(Rng &r, kt::Mode m, IdtKind k, uint8_t *mem, uint64_t *base, uint16_t *limit);

/* Long mode: overwrite `n` random entries of the identity map's PML4/PDPT/PDs. */
void scramble_page_tables(Rng &r, uint8_t *mem, unsigned n);

} // namespace fz

#endif
