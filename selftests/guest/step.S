/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for step_test: one of each instruction that dbgkvm skips or emulates
 * instead of letting the CPU run it, with a label after each. The test single-steps
 * through it from user space. Registers on entry (set by the test): RCX = 0x174
 * (IA32_SYSENTER_CS), RSI = a DR0 value, EAX = 0.
 */
#include "guest_code.h"
#include "layout.h"

#define STEP_PORT 0x70

	.code64
GUEST_BEGIN(guest_step)
	rdmsr			/* RDMSR exit: SYSENTER_CS into EDX:EAX */
GUEST_LABEL(st_rdmsr)
	wrmsr			/* WRMSR exit: the same value back */
GUEST_LABEL(st_wrmsr)
	mov	%cr3, %rbx	/* MOV from CR3 (VMX: CR3-store exiting) */
GUEST_LABEL(st_cr3_read)
	mov	%rbx, %cr3	/* MOV to CR3 (VMX: CR3-load exiting) */
GUEST_LABEL(st_cr3_write)
	mov	%cr8, %rdx	/* MOV from CR8 (VMX: CR8-store exiting) */
GUEST_LABEL(st_cr8_read)
	mov	%rdx, %cr8	/* MOV to CR8 (VMX: CR8-load exiting) */
GUEST_LABEL(st_cr8_write)
	mov	%rsi, %dr0	/* MOV to DR0 (intercepted until the guest owns its DRs) */
GUEST_LABEL(st_dr_write)
	mov	%dr0, %rdi	/* MOV from DR0 */
GUEST_LABEL(st_dr_read)
	invd			/* INVD: skipped */
GUEST_LABEL(st_invd)
	wbinvd			/* WBINVD: skipped */
GUEST_LABEL(st_wbinvd)
	cpuid			/* CPUID: emulated in the kernel */
GUEST_LABEL(st_cpuid)
	mov	$0x5a, %al	/* run by the CPU (the guest-TF case steps it too) */
GUEST_LABEL(st_al)
	out	%al, $STEP_PORT	/* OUT: KVM_EXIT_IO, completed on the next KVM_RUN */
GUEST_LABEL(st_out)
	in	$STEP_PORT, %al	/* IN: KVM_EXIT_IO, the data into AL on the next KVM_RUN */
GUEST_LABEL(st_in)
	mov	MMIO_GPA, %ebx	/* MMIO load: KVM_EXIT_MMIO, completed on the next KVM_RUN */
GUEST_LABEL(st_mmio_load)
	mov	%ebx, MMIO_GPA	/* MMIO store: KVM_EXIT_MMIO */
GUEST_LABEL(st_mmio_store)
	hlt			/* HLT: KVM_EXIT_HLT */
GUEST_LABEL(st_hlt)
	out	%eax, $PORT_DONE
GUEST_LABEL(st_done)
	hlt
GUEST_END(guest_step)

	.section .note.GNU-stack, "", @progbits
