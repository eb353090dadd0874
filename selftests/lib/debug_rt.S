/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The debug tests' guest exception runtime, copied to DBG_RT_GPA (position
 * independent: only relative branches; data at fixed GPAs, dbg_layout.h).
 *
 * One 16-byte stub per vector 0-31 pushes a dummy error code (when the CPU
 * pushes none) and the vector, then the common handler:
 *  - logs {vector, RIP, DR6 (#DB) or error code, DR7 (#DB)} in DBG_LOG,
 *  - #DB: counts DR6.B0-3 per bit in DBG_BHITS, counts hits at a RIP other
 *    than DBG_EXPECT[n] in DBG_WRONG, sets RF in the saved RFLAGS when
 *    DR6 & DBG_RF_MASK (an instruction breakpoint is a fault: without RF the
 *    IRET would re-trigger it, SDM Vol. 3B 17.3.1.1), then writes DR6 =
 *    0xffff0ff0 (the handler must clear DR6, SDM 17.2.3) unless DBG_NOCLEAR,
 *  - #BP: nothing (a trap: RIP is after the INT3),
 *  - #UD/#GP/#AC: resumes at DBG_FIXUP in ring 0 (CS/SS of ring 0), clears it,
 *  - anything else, a missing fixup, or nesting deeper than 3 (a #DB loop):
 *    OUT vector and RIP to PORT_UNEXPECTED, then halts for good.
 */
#include "dbg_layout.h"
#include "guest_code.h"
#include "layout.h"

	.code64
GUEST_BEGIN(dbg_rt)
	.balign 16
GUEST_LABEL(dbg_rt_stubs)
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.balign 16
	.if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
	pushq	$\v
	.else
	pushq	$0
	pushq	$\v
	.endif
	jmp	dbg_common
	.endr

	.balign 16
dbg_common:
	/* Frame: rdi 0, rsi 8, rdx 16, rcx 24, rax 32, vector 40, error 48, RIP 56, CS 64, RFLAGS 72, RSP 80, SS 88 */
	push	%rax
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	incq	DBG_DEPTH
	cmpq	$3, DBG_DEPTH
	ja	dbg_unexpected
	mov	40(%rsp), %rax
	mov	DBG_COUNT, %rcx
	cmp	$DBG_LOG_MAX, %rcx
	jae	1f
	shl	$5, %rcx
	add	$DBG_LOG, %rcx
	mov	%rax, (%rcx)
	mov	56(%rsp), %rdx
	mov	%rdx, 8(%rcx)
	cmp	$1, %rax
	jne	2f
	mov	%dr6, %rdx
	mov	%rdx, 16(%rcx)
	mov	%dr7, %rdx
	mov	%rdx, 24(%rcx)
	jmp	1f
2:	mov	48(%rsp), %rdx
	mov	%rdx, 16(%rcx)
	movq	$0, 24(%rcx)
1:	incq	DBG_COUNT
	cmp	$1, %rax
	je	dbg_db
	cmp	$3, %rax
	je	dbg_out
	cmp	$6, %rax
	je	dbg_fixup
	cmp	$13, %rax
	je	dbg_fixup
	cmp	$17, %rax
	je	dbg_fixup
	jmp	dbg_unexpected

dbg_fixup:
	mov	DBG_FIXUP, %rdx
	test	%rdx, %rdx
	jz	dbg_unexpected
	mov	%rdx, 56(%rsp)
	movq	$SEL_CODE64, 64(%rsp)
	movq	$SEL_DATA, 88(%rsp)
	movq	$0, DBG_FIXUP
	jmp	dbg_out

dbg_db:
	mov	%dr6, %rdx
	xor	%ecx, %ecx
3:	bt	%rcx, %rdx
	jnc	4f
	incq	DBG_BHITS(, %rcx, 8)
	mov	DBG_EXPECT(, %rcx, 8), %rsi
	test	%rsi, %rsi
	jz	4f
	cmp	56(%rsp), %rsi
	je	4f
	incq	DBG_WRONG
4:	inc	%ecx
	cmp	$4, %ecx
	jb	3b
	test	%rdx, DBG_RF_MASK
	jz	5f
	orq	$0x10000, 72(%rsp)
5:	cmpq	$0, DBG_NOCLEAR
	jne	dbg_out
	mov	$0xffff0ff0, %eax
	mov	%rax, %dr6

dbg_out:
	decq	DBG_DEPTH
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rax
	add	$16, %rsp
	iretq

dbg_unexpected:
	mov	40(%rsp), %rax
	out	%eax, $PORT_UNEXPECTED
	mov	56(%rsp), %rax
	out	%eax, $PORT_UNEXPECTED
6:	cli
	hlt
	jmp	6b
GUEST_END(dbg_rt)

	.section .note.GNU-stack, "", @progbits
