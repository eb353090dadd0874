/* SPDX-License-Identifier: GPL-2.0 */
/* Guest programs for lifetime_test. */
#include "guest_code.h"
#include "layout.h"

/* Spins until KVM_RUN is interrupted. */
	.code64
GUEST_BEGIN(guest_loop)
1:	pause
	jmp	1b
GUEST_END(guest_loop)

/* Counts in the qword at DATA_GPA forever: the test sees the guest run. */
	.code64
GUEST_BEGIN(guest_tick)
1:	incq	DATA_GPA
	pause
	jmp	1b
GUEST_END(guest_tick)

/* Reads the dword at RBX and reports it, then HLT; loops when run again. */
	.code64
GUEST_BEGIN(guest_peek)
1:	mov	(%rbx), %eax
	out	%eax, $PORT_REPORT
	hlt
	jmp	1b
GUEST_END(guest_peek)

/* One report, then HLT. */
	.code64
GUEST_BEGIN(guest_once)
	mov	$0x600d, %eax
	out	%eax, $PORT_REPORT
	hlt
GUEST_END(guest_once)

	.section .note.GNU-stack, "", @progbits
