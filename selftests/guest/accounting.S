/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for accounting_test: a guest that computes for a while without an exit
 * (DBG_PARAM iterations of a two-instruction loop), then halts.
 */
#include "dbg_layout.h"
#include "guest_code.h"
#include "layout.h"

	.code64
GUEST_BEGIN(guest_accounting)
	hlt

GUEST_LABEL(acct_spin)
	mov	DBG_PARAM, %rcx
1:	dec	%rcx
	jnz	1b
	hlt
GUEST_END(guest_accounting)

	.section .note.GNU-stack, "", @progbits
