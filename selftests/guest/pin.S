/* SPDX-License-Identifier: GPL-2.0 */
/* Guest programs for pin_test. */
#include "guest_code.h"
#include "layout.h"

/*
 * Writes RCX, RCX-1, ..., 1 into the first qword of RCX pages from RBX on, then
 * reports 0x600d and halts. A failed KVM_RUN leaves RIP at the faulting store:
 * running again continues where it stopped.
 */
	.code64
GUEST_BEGIN(guest_touch)
1:	mov	%rcx, (%rbx)
	add	$PAGE_SIZE_4K, %rbx
	dec	%rcx
	jnz	1b
	mov	$0x600d, %eax
	out	%eax, $PORT_REPORT
2:	hlt
	jmp	2b
GUEST_END(guest_touch)

	.section .note.GNU-stack, "", @progbits
