/* SPDX-License-Identifier: GPL-2.0 */
/* Guest programs for bench_test. */
#include "guest_code.h"
#include "layout.h"

/* One OUT to user space per round: the cost of a full exit to the VMM and back. */
	.code64
GUEST_BEGIN(guest_bench_pio)
1:	out	%eax, $PORT_REPORT
	jmp	1b
GUEST_END(guest_bench_pio)

/* RBX CPUIDs (handled in the kernel), then one OUT; again and again. */
	.code64
GUEST_BEGIN(guest_bench_cpuid)
1:	mov	%rbx, %rcx
2:	push	%rcx
	xor	%eax, %eax
	cpuid
	pop	%rcx
	dec	%rcx
	jnz	2b
	out	%eax, $PORT_REPORT
	jmp	1b
GUEST_END(guest_bench_cpuid)

	.section .note.GNU-stack, "", @progbits
