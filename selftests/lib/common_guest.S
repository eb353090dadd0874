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

/*
 * Peek and poke at an address the test chooses: reports the dword at RBX,
 * stores ECX at RBX + 4, HLTs; after the HLT exit it loops, so the test can
 * change RBX/RCX with KVM_SET_REGS and run it again (vm_test, pin_test).
 */
	.code64
GUEST_BEGIN(guest_peek_poke)
1:	mov	(%rbx), %eax
	out	%eax, $PORT_REPORT
	mov	%ecx, 4(%rbx)
	hlt
	jmp	1b
GUEST_END(guest_peek_poke)

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
