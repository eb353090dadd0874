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

/* R8 CPUIDs (handled in the kernel), then one OUT; again and again. CPUID writes
   EAX, EBX, ECX and EDX, so the count lives in R8/R9. */
	.code64
GUEST_BEGIN(guest_bench_cpuid)
1:	mov	%r8, %r9
2:	xor	%eax, %eax
	xor	%ecx, %ecx
	cpuid
	dec	%r9
	jnz	2b
	out	%eax, $PORT_REPORT
	jmp	1b
GUEST_END(guest_bench_cpuid)

	.section .note.GNU-stack, "", @progbits
