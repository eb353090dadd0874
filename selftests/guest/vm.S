/* SPDX-License-Identifier: GPL-2.0 */
/* Guest programs for vm_test. */
#include "guest_code.h"
#include "layout.h"

/*
 * Peek and poke at an address the test chooses: reports the dword at RBX,
 * stores ECX at RBX + 4, HLTs; after the HLT exit it loops, so the test can
 * change RBX/RCX with KVM_SET_REGS and run it again.
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
