/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for debug_test (debugging a guest from userspace, like Linux's
 * tools/testing/selftests/kvm/x86_64/debug_regs.c). One blob, several entry
 * points: the test sets RIP to the label of the case it runs.
 */
#include "dbg_layout.h"
#include "guest_code.h"
#include "layout.h"

	.code64
GUEST_BEGIN(guest_debug)
	hlt

/* KVM_GUESTDBG_USE_SW_BP: the INT3 exits with exception 3, pc = the INT3. */
GUEST_LABEL(ud_int3)
	int3
	out	%eax, $PORT_DONE
	hlt

/* Execute breakpoints: the test puts DRn on ud_exec_bp. */
GUEST_LABEL(ud_exec)
	nop
	nop
GUEST_LABEL(ud_exec_bp)
	nop
	out	%eax, $PORT_DONE
	hlt

/* 4-byte write watchpoints on DBG_WATCH: the exit comes after the write (a trap). */
GUEST_LABEL(ud_write)
	movl	$0x12345678, DBG_WATCH
GUEST_LABEL(ud_write_after)
	nop
	out	%eax, $PORT_DONE
	hlt

/*
 * Single-step, as in debug_regs.c: STI (interrupt shadow), XOR, CPUID (an
 * intercepted instruction KVM skips), MOV, NOP, CLI. Each exit's pc is the
 * next label.
 */
GUEST_LABEL(ud_ss)
	sti
GUEST_LABEL(ud_ss_1)
	xor	%eax, %eax
GUEST_LABEL(ud_ss_2)
	cpuid
GUEST_LABEL(ud_ss_3)
	mov	$1, %ebx
GUEST_LABEL(ud_ss_4)
	nop
GUEST_LABEL(ud_ss_5)
	cli
GUEST_LABEL(ud_ss_6)
	out	%eax, $PORT_DONE
	hlt

/* DR7.GD with USE_HW_BP: the MOV DR faults (exit with pc = the MOV). */
GUEST_LABEL(ud_gd)
	mov	%dr0, %rax
	out	%eax, $PORT_DONE
	hlt

/* INJECT_DB / INJECT_BP: an OUT loop; the injected exception lands in the handler. */
GUEST_LABEL(ud_loop)
1:	out	%eax, $PORT_REPORT
	jmp	1b

/*
 * Seed 001: a breakpoint exit at seed_bp, then single-step exits; then the
 * guest reads its own DR6 and reports it.
 */
GUEST_LABEL(ud_seed001)
	nop
GUEST_LABEL(ud_seed001_bp)
	nop
GUEST_LABEL(ud_seed001_1)
	nop
GUEST_LABEL(ud_seed001_2)
	mov	%dr6, %rax
	out	%eax, $PORT_REPORT
	shr	$32, %rax
	out	%eax, $PORT_REPORT
	hlt
GUEST_END(guest_debug)

	.section .note.GNU-stack, "", @progbits
