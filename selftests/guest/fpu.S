/* SPDX-License-Identifier: GPL-2.0 */
/* Guest programs for fpu_test (CR4.OSFXSR set by the test). */
#include "guest_code.h"
#include "layout.h"

/*
 * Loads ST0 = 1.0 and XMM0 = fpu_pattern, halts; then reports XMM1 (the value the test
 * put there) as four dwords, low to high, and halts.
 */
	.code64
GUEST_BEGIN(guest_fpu)
	fninit
	fld1
	movdqu	fpu_pattern(%rip), %xmm0
	hlt
	movq	%xmm1, %rax
	out	%eax, $PORT_REPORT
	shr	$32, %rax
	out	%eax, $PORT_REPORT
	movhlps	%xmm1, %xmm2
	movq	%xmm2, %rax
	out	%eax, $PORT_REPORT
	shr	$32, %rax
	out	%eax, $PORT_REPORT
	hlt
	.balign 16
fpu_pattern:
	.quad	0x0123456789abcdef, 0xfedcba9876543210
GUEST_END(guest_fpu)

	.section .note.GNU-stack, "", @progbits
