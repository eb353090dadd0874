/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for reboot_test: computes forever, with no exit of its own. */
#include "dbg_layout.h"
#include "guest_code.h"
#include "layout.h"

	.code64
GUEST_BEGIN(guest_reboot)
	hlt

GUEST_LABEL(rb_spin)
1:	inc	%rcx
	jmp	1b
GUEST_END(guest_reboot)

	.section .note.GNU-stack, "", @progbits
