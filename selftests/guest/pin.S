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

/* Reports the dword at RBX, stores ECX at RBX + 4, halts; runs again from the top. */
	.code64
GUEST_BEGIN(guest_peek_poke)
1:	mov	(%rbx), %eax
	out	%eax, $PORT_REPORT
	mov	%ecx, 4(%rbx)
	hlt
	jmp	1b
GUEST_END(guest_peek_poke)

	.section .note.GNU-stack, "", @progbits
