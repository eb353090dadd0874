/* SPDX-License-Identifier: GPL-2.0 */
/* Guest programs for coexist_test. */
#include "guest_code.h"
#include "layout.h"

/* Reports 0, 1, 2, ... (EAX) forever. */
	.code64
GUEST_BEGIN(guest_coexist_count)
	xor	%eax, %eax
1:	out	%eax, $PORT_REPORT
	inc	%eax
	jmp	1b
GUEST_END(guest_coexist_count)

	.section .note.GNU-stack, "", @progbits
