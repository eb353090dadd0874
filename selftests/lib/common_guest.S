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

	.section .note.GNU-stack, "", @progbits
