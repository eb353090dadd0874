/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for emul_debug_test: breakpoints and single-step on instructions
 * the hypervisor emulates (a MOV to or from MMIO_GPA, which has no memory slot:
 * nested page fault -> decode -> emulate -> KVM_EXIT_MMIO).
 */
#include "dbg_layout.h"
#include "guest_code.h"
#include "layout.h"

/* TF on for the instruction after the POPF; a second POPF (TF off) is queued on the stack. */
#define TF_ON                                                                                      \
	pushf;                                                                                     \
	pop	%rax;                                                                              \
	mov	%rax, %rcx;                                                                        \
	or	$0x100, %rax;                                                                      \
	push	%rcx;                                                                              \
	push	%rax;                                                                              \
	popf

	.code64
GUEST_BEGIN(guest_emul_debug)
	hlt

/* Userspace's execute breakpoint on an MMIO store. */
GUEST_LABEL(em_user_bp)
	nop
GUEST_LABEL(em_user_bp_insn)
	movl	$0x11, MMIO_GPA
	out	%eax, $PORT_DONE
	hlt

/* The guest's own execute breakpoint (DR0) on an MMIO store. */
GUEST_LABEL(em_guest_bp)
	movq	$1, DBG_RF_MASK
	lea	em_guest_bp_insn(%rip), %rax
	mov	%rax, %dr0
	mov	$0x402, %eax
	mov	%rax, %dr7
GUEST_LABEL(em_guest_bp_insn)
	movl	$0x22, MMIO_GPA
	mov	$0x400, %eax
	mov	%rax, %dr7
	out	%eax, $PORT_DONE
	hlt

/* The guest sets TF over an MMIO load, then over the POPF that clears TF. */
GUEST_LABEL(em_ss_read)
	TF_ON
GUEST_LABEL(em_ss_read_insn)
	mov	MMIO_GPA, %ebx
GUEST_LABEL(em_ss_read_next)
	popf
GUEST_LABEL(em_ss_read_after)
	mov	%rbx, DBG_OUT
	out	%eax, $PORT_DONE
	hlt

/* The same over an MMIO store. */
GUEST_LABEL(em_ss_write)
	TF_ON
GUEST_LABEL(em_ss_write_insn)
	movl	$0x33, MMIO_GPA
GUEST_LABEL(em_ss_write_next)
	popf
GUEST_LABEL(em_ss_write_after)
	out	%eax, $PORT_DONE
	hlt

/*
 * Seed 002: TF over an MMIO load whose next instruction has the guest's own
 * execute breakpoint (DR0): hardware reports one #DB with BS and B0.
 */
GUEST_LABEL(em_co)
	movq	$1, DBG_RF_MASK
	lea	em_co_next(%rip), %rax
	mov	%rax, %dr0
	mov	$0x402, %eax
	mov	%rax, %dr7
	TF_ON
GUEST_LABEL(em_co_insn)
	mov	MMIO_GPA, %ebx
GUEST_LABEL(em_co_next)
	popf
GUEST_LABEL(em_co_after)
	mov	$0x400, %eax
	mov	%rax, %dr7
	out	%eax, $PORT_DONE
	hlt

/* Userspace single-step over an MMIO load and an MMIO store. */
GUEST_LABEL(em_uss)
	mov	MMIO_GPA, %ebx
GUEST_LABEL(em_uss_1)
	movl	$0x44, MMIO_GPA
GUEST_LABEL(em_uss_2)
	nop
	out	%eax, $PORT_DONE
	hlt
GUEST_END(guest_emul_debug)

	.section .note.GNU-stack, "", @progbits
