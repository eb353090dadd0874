/* SPDX-License-Identifier: GPL-2.0 */
/* Guest programs for migrate_test. */
#include "guest_code.h"
#include "layout.h"

/*
 * Puts RBX in DR0 (a guest-owned debug register, not armed), then reports 0, 1, 2, ...
 * After each report it checks DR0 still holds RBX; if not, it reports 0xbad forever.
 */
	.code64
GUEST_BEGIN(guest_migrate)
	mov	%rbx, %db0
	xor	%eax, %eax
1:	out	%eax, $PORT_REPORT
	mov	%db0, %rcx
	cmp	%rbx, %rcx
	jne	2f
	inc	%eax
	jmp	1b
2:	mov	$0xbad, %eax
	out	%eax, $PORT_REPORT
	jmp	2b
GUEST_END(guest_migrate)

	.section .note.GNU-stack, "", @progbits
