/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The SVM world switch (AMD APM Vol. 2, 15.5 "VMRUN Instruction", 15.6 "#VMEXIT").
 *
 * dbgkvm_svm_vmrun(u64 vmcb_pa, u64 *regs, u64 host_save_pa)
 *
 * Called with interrupts off. CLGI holds off interrupts, NMIs and SMIs across the
 * switch, so RFLAGS.IF can be set just before VMRUN: with V_INTR_MASKING the host's IF
 * at VMRUN decides whether a physical interrupt ends the guest (APM 15.21.1), so it must
 * be 1 or a guest in a loop would hold the CPU forever. The interrupt stays pending
 * through #VMEXIT (GIF = 0, then CLI) and is taken when the caller enables interrupts. VMRUN saves and restores the host's RSP, RIP,
 * RFLAGS, RAX, CR0/3/4, EFER, GDTR/IDTR and ES/CS/SS/DS; VMSAVE/VMLOAD move the rest
 * (FS, GS, TR, LDTR and their hidden parts, KernelGsBase, STAR/LSTAR/CSTAR/SFMASK,
 * SYSENTER_*). The guest's RAX and RSP live in the VMCB; every other GPR goes through
 * regs[], indexed by register number.
 *
 * Speculative-execution mitigations: the same steps, in the same places, as the target
 * kernel's __svm_vcpu_run (Debian 6.1.192 and 6.12.117), with the kernel's own macros,
 * so its alternatives patch them in exactly where its mitigations are on:
 *  - VM_CLEAR_CPU_BUFFERS (VERW; TSA on AMD) as the last step before VMRUN.
 *  - After #VMEXIT and the host's VMLOAD (GS base back, so per-CPU data works), before
 *    any RET and before GIF is set: FILL_RETURN_BUFFER, then UNTRAIN_RET_VM (6.12;
 *    6.1 spells it UNTRAIN_RET plus the IBPB_ON_VMEXIT call): RETBleed's untraining,
 *    SRSO's safe-RET alias or IBPB on exit.
 *  - SPEC_CTRL: a guest never owns it (no SPEC_CTRL in its CPUID, the MSR permission
 *    map intercepts every MSR), so it runs with the host's value, and KVM's
 *    RESTORE_GUEST/HOST_SPEC_CTRL (write only when the guest's value differs) has
 *    nothing to do.
 * The IBPB between vCPUs is in C (glue/mitigations.c); scripts/mitigations-check.sh
 * compares all of this with the target kernel's KVM in make check.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

#define REG(n) ((n) * 8)

	.section .text, "ax"

SYM_FUNC_START(dbgkvm_svm_vmrun)
	push %rbp
	mov %rsp, %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
	push %rsi			/* 16(%rsp): regs */
	push %rdi			/* 8(%rsp): guest VMCB */
	push %rdx			/* 0(%rsp): host VMSAVE area */

	clgi
	mov %rdx, %rax
	vmsave %rax
	mov %rdi, %rax
	vmload %rax

	mov REG(1)(%rsi), %rcx
	mov REG(2)(%rsi), %rdx
	mov REG(3)(%rsi), %rbx
	mov REG(5)(%rsi), %rbp
	mov REG(7)(%rsi), %rdi
	mov REG(8)(%rsi), %r8
	mov REG(9)(%rsi), %r9
	mov REG(10)(%rsi), %r10
	mov REG(11)(%rsi), %r11
	mov REG(12)(%rsi), %r12
	mov REG(13)(%rsi), %r13
	mov REG(14)(%rsi), %r14
	mov REG(15)(%rsi), %r15
	mov REG(6)(%rsi), %rsi

	/* VERW where the host mitigates TSA (or MDS & co.). Clobbers ZF only. */
	VM_CLEAR_CPU_BUFFERS

	/* RAX holds the guest VMCB's physical address. GIF = 0: STI delivers nothing. */
	sti
	vmrun %rax
	cli

	/* #VMEXIT: host RSP and RAX are back; the other GPRs are the guest's. */
	mov 16(%rsp), %rax
	mov %rcx, REG(1)(%rax)
	mov %rdx, REG(2)(%rax)
	mov %rbx, REG(3)(%rax)
	mov %rbp, REG(5)(%rax)
	mov %rsi, REG(6)(%rax)
	mov %rdi, REG(7)(%rax)
	mov %r8, REG(8)(%rax)
	mov %r9, REG(9)(%rax)
	mov %r10, REG(10)(%rax)
	mov %r11, REG(11)(%rax)
	mov %r12, REG(12)(%rax)
	mov %r13, REG(13)(%rax)
	mov %r14, REG(14)(%rax)
	mov %r15, REG(15)(%rax)

	mov 8(%rsp), %rax
	vmsave %rax
	mov 0(%rsp), %rax
	vmload %rax

	/*
	 * Host GS base is back. Before the first RET, and before GIF = 1 lets interrupt
	 * handlers return through an untrained RET: stuff the RSB, then untrain the
	 * return predictor (clobbers RAX, RCX, RDX: the guest's are saved).
	 */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT
#ifdef UNTRAIN_RET_VM
	UNTRAIN_RET_VM
#else
	UNTRAIN_RET
	ALTERNATIVE "", "call entry_ibpb", X86_FEATURE_IBPB_ON_VMEXIT
#endif

	/* Leave no guest-controlled values in registers for speculation to use. */
	xor %ecx, %ecx
	xor %edx, %edx
	xor %ebx, %ebx
	xor %ebp, %ebp
	xor %esi, %esi
	xor %edi, %edi
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d

	stgi

	add $24, %rsp
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET
SYM_FUNC_END(dbgkvm_svm_vmrun)
