/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMX world switch (SDM Vol. 3, 26 "VM Entries", 27 "VM Exits", 31 VMLAUNCH/VMRESUME).
 *
 * int dbgkvm_vmx_vmenter(u64 *regs, int launched)
 *
 * Called with interrupts off and the vCPU's VMCS current. A VM exit loads RSP and RIP
 * from HOST_RSP/HOST_RIP, which are written here: HOST_RSP is this frame (with regs on
 * top), HOST_RIP the .Lvmexit label. Everything else of the host (CR0/3/4, segments,
 * EFER, PAT, SYSENTER) comes from the host-state area the backend filled. The guest's
 * RSP and RIP live in the VMCS; the other GPRs go through regs[], indexed by register
 * number (slot 4, RSP, unused).
 *
 * Returns 0 after a VM exit (including a VM-entry failure, exit reason bit 31), and 1
 * when VMLAUNCH/VMRESUME (or a VMWRITE here) fails with VMfailInvalid/VMfailValid,
 * or faults: control then simply falls through, and VM_INSTRUCTION_ERROR says why.
 *
 * Interrupts stay off in the guest's favour only: with "external-interrupt exiting"
 * a host interrupt ends the guest whatever the host's RFLAGS.IF, and with
 * "acknowledge interrupt on exit" off it stays pending in the APIC until the caller
 * turns interrupts on.
 *
 * objtool cannot see that VMLAUNCH/VMRESUME "return" at .Lvmexit: the unwind state is
 * saved before them and restored there (UNWIND_HINT_SAVE/RESTORE), as in KVM's
 * arch/x86/kvm/vmx/vmenter.S.
 *
 * Speculative-execution mitigations: the same steps, in the same places, as the target
 * kernel's __vmx_vcpu_run (Debian 6.1.192 and 6.12.117), with the kernel's own macros,
 * so the kernel's alternatives patch them in exactly where its mitigations are on:
 *  - CLEAR_CPU_BUFFERS (VERW; MDS, TAA, MMIO stale data, RFDS) as the last step before
 *    VMLAUNCH/VMRESUME. It clobbers ZF, so the launch/resume choice travels in CF.
 *  - FILL_RETURN_BUFFER after the exit, before the first RET (RSB_VMEXIT for
 *    retpoline/IBRS hosts, the one-entry RSB_VMEXIT_LITE for eIBRS with PBRSB).
 *  - SPEC_CTRL: a guest never owns it (no SPEC_CTRL in its CPUID, every MSR access
 *    exits), so it runs with the host's value and KVM's "write it if the guest's
 *    differs" never applies. Legacy IBRS (KERNEL_IBRS) must still be rewritten after
 *    a less privileged predictor mode, then an LFENCE (vmx_spec_ctrl_restore_host).
 *  - CLEAR_BRANCH_HISTORY_VMEXIT (BHI) before the first RET.
 * The L1D flush, the IBPB between vCPUs and the VMSCAPE IBPB are in C
 * (glue/mitigations.c); scripts/mitigations-check.sh compares all of this with the
 * target kernel's KVM in make check.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/ibt.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/percpu.h>
#include <asm/unwind_hints.h>

#define REG(n) ((n) * 8)
#define HOST_RSP 0x6c14
#define HOST_RIP 0x6c16

	.section .text, "ax"

SYM_FUNC_START(dbgkvm_vmx_vmenter)
	push %rbp
	mov %rsp, %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
	push %rdi			/* 0(%rsp): regs, at HOST_RSP */

	mov $HOST_RSP, %eax
	vmwrite %rsp, %rax
	jbe .Lvmfail
	lea .Lvmexit(%rip), %rcx
	mov $HOST_RIP, %eax
	vmwrite %rcx, %rax
	jbe .Lvmfail

	/* CF from here to the branch (launched): the MOVs below leave the flags alone. */
	bt $0, %esi

	mov %rdi, %rax
	mov REG(1)(%rax), %rcx
	mov REG(2)(%rax), %rdx
	mov REG(3)(%rax), %rbx
	mov REG(5)(%rax), %rbp
	mov REG(6)(%rax), %rsi
	mov REG(7)(%rax), %rdi
	mov REG(8)(%rax), %r8
	mov REG(9)(%rax), %r9
	mov REG(10)(%rax), %r10
	mov REG(11)(%rax), %r11
	mov REG(12)(%rax), %r12
	mov REG(13)(%rax), %r13
	mov REG(14)(%rax), %r14
	mov REG(15)(%rax), %r15
	mov REG(0)(%rax), %rax

	/* VERW where the host mitigates MDS & co. Clobbers ZF; CF survives. */
	CLEAR_CPU_BUFFERS

	jnc .Lvmlaunch

	UNWIND_HINT_SAVE
.Lvmresume:
	vmresume
	jmp .Lvmfail

.Lvmlaunch:
	vmlaunch
	jmp .Lvmfail

	_ASM_EXTABLE(.Lvmresume, .Lvmfail)
	_ASM_EXTABLE(.Lvmlaunch, .Lvmfail)

.Lvmexit:
	UNWIND_HINT_RESTORE
	ENDBR
	/* RSP is HOST_RSP: regs on top. Every GPR but RSP is the guest's. */
	push %rax
	mov 8(%rsp), %rax
	pop REG(0)(%rax)
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
	xor %ebx, %ebx			/* return 0: a VM exit */

.Lout:
	add $8, %rsp			/* regs */

	/* Leave no guest-controlled values in registers for speculation to use. */
	xor %ecx, %ecx
	xor %edx, %edx
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

	/*
	 * Before the first unbalanced RET: the guest may have poisoned the return stack
	 * buffer (retpoline/IBRS hosts), or eIBRS needs one call retired (PBRSB).
	 */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE

	/* Legacy IBRS: write SPEC_CTRL (the host's value) again, then no speculation past. */
	ALTERNATIVE "jmp .Lspec_ctrl_done", "", X86_FEATURE_KERNEL_IBRS
	mov PER_CPU_VAR(x86_spec_ctrl_current), %rax
	mov %rax, %rdx
	shr $32, %rdx
	mov $MSR_IA32_SPEC_CTRL, %ecx
	wrmsr
.Lspec_ctrl_done:
	ALTERNATIVE "", "lfence", X86_FEATURE_MSR_SPEC_CTRL

	CLEAR_BRANCH_HISTORY_VMEXIT

	mov %ebx, %eax
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET

.Lvmfail:
	/* VMfail (or a fault on VMLAUNCH/VMRESUME): the host stack is intact. */
	mov $1, %ebx
	jmp .Lout
SYM_FUNC_END(dbgkvm_vmx_vmenter)
