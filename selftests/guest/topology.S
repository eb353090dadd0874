/* SPDX-License-Identifier: GPL-2.0 */
/* Guest programs for topology_test. */
#include "guest_code.h"
#include "layout.h"

/*
 * Runs CPUID for each of R8 queries at RSI (u32 leaf, u32 subleaf) and stores EAX, EBX,
 * ECX, EDX of each, in that order, from RDI on; then halts.
 */
	.code64
GUEST_BEGIN(guest_cpuid_table)
1:	test	%r8, %r8
	jz	2f
	mov	(%rsi), %eax
	mov	4(%rsi), %ecx
	cpuid
	mov	%eax, (%rdi)
	mov	%ebx, 4(%rdi)
	mov	%ecx, 8(%rdi)
	mov	%edx, 12(%rdi)
	add	$8, %rsi
	add	$16, %rdi
	dec	%r8
	jmp	1b
2:	hlt
	jmp	2b
GUEST_END(guest_cpuid_table)

	.section .note.GNU-stack, "", @progbits
