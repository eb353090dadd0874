/* SPDX-License-Identifier: GPL-2.0 */
/* Guest programs for lifetime_test. */
#include "guest_code.h"
#include "layout.h"

/* Reports 0, 1, 2, ... (EAX) forever. */
	.code64
GUEST_BEGIN(guest_count)
	xor	%eax, %eax
1:	out	%eax, $PORT_REPORT
	inc	%eax
	jmp	1b
GUEST_END(guest_count)

/* Spins until KVM_RUN is interrupted. */
	.code64
GUEST_BEGIN(guest_loop)
1:	pause
	jmp	1b
GUEST_END(guest_loop)

/* One report, then HLT. */
	.code64
GUEST_BEGIN(guest_once)
	mov	$0x600d, %eax
	out	%eax, $PORT_REPORT
	hlt
GUEST_END(guest_once)

	.section .note.GNU-stack, "", @progbits
