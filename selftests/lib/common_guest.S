/* SPDX-License-Identifier: GPL-2.0 */
/* Guest programs more than one test binary uses (GUEST_DECLARE them where used). */
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

/*
 * Peek and poke at an address the test chooses: reports the dword at RBX,
 * stores ECX at RBX + 4, HLTs; after the HLT exit it loops, so the test can
 * change RBX/RCX with KVM_SET_REGS and run it again (vm_test, pin_test).
 */
	.code64
GUEST_BEGIN(guest_peek_poke)
1:	mov	(%rbx), %eax
	out	%eax, $PORT_REPORT
	mov	%ecx, 4(%rbx)
	hlt
	jmp	1b
GUEST_END(guest_peek_poke)

	.section .note.GNU-stack, "", @progbits
