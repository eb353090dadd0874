/* SPDX-License-Identifier: GPL-2.0 */
/* Guest programs for vcpu_test. */
#include "guest_code.h"
#include "layout.h"

/* Reports 0, 1, 2, ... (EAX) forever. */
	.code64
GUEST_BEGIN(guest_counter)
	xor	%eax, %eax
1:	out	%eax, $PORT_REPORT
	inc	%eax
	jmp	1b
GUEST_END(guest_counter)

/* Reports CR8 (as set through KVM_SET_SREGS), writes 7 to it, halts. */
GUEST_BEGIN(guest_cr8)
	mov	%cr8, %rax
	out	%eax, $PORT_REPORT
	mov	$7, %eax
	mov	%rax, %cr8
	hlt
GUEST_END(guest_cr8)

	.section .note.GNU-stack, "", @progbits
