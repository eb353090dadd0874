/* SPDX-License-Identifier: GPL-2.0 */
/* Guest programs for msr_test. */
#include "guest_code.h"
#include "layout.h"

/*
 * One RDMSR or WRMSR, set up through KVM_SET_REGS: ECX the MSR, ESI 0 to read (then
 * EAX and EDX are reported, in that order), 1 to write EDX:EAX. Halts after it. The IDT
 * is empty: a #GP is a triple fault, KVM_EXIT_SHUTDOWN.
 */
	.code64
GUEST_BEGIN(guest_msr)
	test	%esi, %esi
	jnz	1f
	rdmsr
	out	%eax, $PORT_REPORT
	mov	%edx, %eax
	out	%eax, $PORT_REPORT
	hlt
1:	wrmsr
	hlt
GUEST_END(guest_msr)

	.section .note.GNU-stack, "", @progbits
