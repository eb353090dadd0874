/* SPDX-License-Identifier: GPL-2.0 */
/* Guest programs for events_test (run with lib/debug.h's exception runtime). */
#include "guest_code.h"
#include "layout.h"

/* Reports 0x1234 and halts: whatever exception is injected first goes to the runtime. */
	.code64
GUEST_BEGIN(guest_events)
	mov	$0x1234, %eax
	out	%eax, $PORT_REPORT
	hlt
GUEST_END(guest_events)

	.section .note.GNU-stack, "", @progbits
