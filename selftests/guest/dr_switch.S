/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for dr_switch_test. Each guest owns its debug registers: DR0-3
 * on its own 4 of the 16 slots of a shared "sled" (guest k: slots 4k..4k+3,
 * DBG_PARAM[0] = k), set once. Then it loops: pass through all 16 slots,
 * count the pass in DBG_OUT[0], OUT to PORT_REPORT (the host may switch
 * threads there), until the host sets DBG_PARAM[1]. Its #DB handler counts
 * Bn hits (DBG_BHITS) and hits at a RIP that is not its own slot (DBG_WRONG):
 * stale DR0-3 from another vCPU or the host show up as wrong or missing hits.
 */
#include "dbg_layout.h"
#include "guest_code.h"
#include "layout.h"

	.code64
GUEST_BEGIN(guest_dr_switch)
	movq	$0xf, DBG_RF_MASK
	mov	DBG_PARAM, %rbx
	shl	$6, %rbx			/* 4 slots of 16 bytes per guest */
	lea	sw_sled(%rip), %rax
	add	%rbx, %rax
	mov	%rax, %dr0
	mov	%rax, DBG_EXPECT
	add	$16, %rax
	mov	%rax, %dr1
	mov	%rax, DBG_EXPECT + 8
	add	$16, %rax
	mov	%rax, %dr2
	mov	%rax, DBG_EXPECT + 16
	add	$16, %rax
	mov	%rax, %dr3
	mov	%rax, DBG_EXPECT + 24
	mov	$0x4aa, %eax			/* G0-G3, execute, 1 byte */
	mov	%rax, %dr7
1:	call	sw_sled
	incq	DBG_OUT
	mov	DBG_OUT, %rax
	out	%eax, $PORT_REPORT
	cmpq	$0, DBG_PARAM + 8
	je	1b
	mov	$0x400, %eax
	mov	%rax, %dr7
	out	%eax, $PORT_DONE
	hlt

	/* .rodata.guest is not a code section: pad with NOPs explicitly, not zeros. */
	.balign 16, 0x90
GUEST_LABEL(sw_sled)
	.rept 16
	nop
	.fill 15, 1, 0x90
	.endr
	ret
GUEST_END(guest_dr_switch)

	.section .note.GNU-stack, "", @progbits
