/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest programs for bench_test. Each loop reports a running count with its OUT (or MMIO
 * store), so the test can check that every round really ran, in order.
 */
#include "guest_code.h"
#include "layout.h"

/* One OUT to user space per round: the cost of a full exit to the VMM and back. EAX
   counts the rounds (OUT leaves it alone). */
	.code64
GUEST_BEGIN(guest_bench_pio)
1:	inc	%eax
	out	%eax, $PORT_REPORT
	jmp	1b
GUEST_END(guest_bench_pio)

/* R8 CPUIDs (handled in the kernel), then one OUT of R10, the number of CPUIDs done so
   far; again and again. CPUID writes EAX, EBX, ECX and EDX, so the counts live in
   R8/R9/R10. */
	.code64
GUEST_BEGIN(guest_bench_cpuid)
1:	mov	%r8, %r9
2:	xor	%eax, %eax
	xor	%ecx, %ecx
	cpuid
	inc	%r10
	dec	%r9
	jnz	2b
	mov	%r10d, %eax
	out	%eax, $PORT_REPORT
	jmp	1b
GUEST_END(guest_bench_cpuid)

/* The same in real mode: ESI CPUIDs a round, EBP counts them, EDI is the loop counter. */
	.code16
GUEST_BEGIN(guest_bench_cpuid_real)
1:	mov	%esi, %edi
2:	xor	%eax, %eax
	xor	%ecx, %ecx
	cpuid
	inc	%ebp
	dec	%edi
	jnz	2b
	mov	%ebp, %eax
	out	%eax, $PORT_REPORT
	jmp	1b
GUEST_END(guest_bench_cpuid_real)

/* One 4-byte store to MMIO_GPA (no memory slot: KVM_EXIT_MMIO) per round; the value
   stored counts the rounds. */
	.code64
GUEST_BEGIN(guest_bench_mmio)
1:	inc	%eax
	mov	%eax, MMIO_GPA
	jmp	1b
GUEST_END(guest_bench_mmio)

/* The PIO loop with a hardware breakpoint armed in the guest's own DR7: DR0 = RBX (an
   address the guest never executes), DR7 = RCX, both set by the test. The first MOV DR
   hands the registers to the guest (WONT_EXIT); the first exit takes them back, and from
   then on every OUT exits with the breakpoint enabled (BP_ENABLED) and the DR accesses
   intercepted again. */
	.code64
GUEST_BEGIN(guest_bench_pio_bp)
	mov	%rbx, %dr0
	mov	%rcx, %dr7
1:	inc	%eax
	out	%eax, $PORT_REPORT
	jmp	1b
GUEST_END(guest_bench_pio_bp)

/* The same with a MOV to DR0 at the start of every round: KVM (and dbgkvm) give the
   registers back to the host at every exit after the guest took them (the sync clears
   WONT_EXIT and intercepts DR accesses again), so the guest takes them again each round,
   and every OUT exits while the guest owns its debug registers (WONT_EXIT). A round is
   therefore one MOV DR intercept (handled in the kernel, the instruction re-executed
   natively) plus the OUT round trip through user space. */
	.code64
GUEST_BEGIN(guest_bench_pio_dr)
	mov	%rbx, %dr0
	mov	%rcx, %dr7
1:	mov	%rbx, %dr0
	inc	%eax
	out	%eax, $PORT_REPORT
	jmp	1b
GUEST_END(guest_bench_pio_dr)

	.section .note.GNU-stack, "", @progbits
