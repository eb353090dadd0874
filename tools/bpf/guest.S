/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drload's guest: real mode, loaded at guest physical 0x1000 (CS = 0, IP = 0x1000).
 * In: EBX = guest index k, ESI = spin count.
 *
 * It owns its debug registers: DRn = 0x100000 * (k + 1) + 0x10 * n, and DR7 = 0x4aa
 * (G0-G3, execute, 1 byte: armed, on addresses it never runs, so no #DB). Then it loops:
 * spin ESI times (long enough for the host timer to preempt the vCPU thread mid-run),
 * read DR0-3 and DR7 back, OUT to port 0x10 if they are its own, else OUT the wrong
 * DR0-3 value to port 0x11 and program them again. Its first MOV DR makes the guest own
 * the registers (WONT_EXIT), and the armed DR7 sets BP_ENABLED.
 */
	.section .rodata, "a"
	.globl dw_guest_start, dw_guest_end
	.code16
dw_guest_start:
0:	movl	%ebx, %eax
	incl	%eax
	shll	$20, %eax
	movl	%eax, %dr0
	addl	$0x10, %eax
	movl	%eax, %dr1
	addl	$0x10, %eax
	movl	%eax, %dr2
	addl	$0x10, %eax
	movl	%eax, %dr3
	movl	$0x4aa, %eax
	movl	%eax, %dr7
1:	movl	%esi, %ecx
2:	decl	%ecx
	jnz	2b
	movl	%ebx, %eax
	incl	%eax
	shll	$20, %eax
	movl	%dr0, %edx
	cmpl	%eax, %edx
	jne	3f
	addl	$0x10, %eax
	movl	%dr1, %edx
	cmpl	%eax, %edx
	jne	3f
	addl	$0x10, %eax
	movl	%dr2, %edx
	cmpl	%eax, %edx
	jne	3f
	addl	$0x10, %eax
	movl	%dr3, %edx
	cmpl	%eax, %edx
	jne	3f
	movl	%dr7, %edx
	andl	$0xff, %edx
	cmpl	$0xaa, %edx
	jne	3f
	outb	%al, $0x10
	jmp	1b
3:	movl	%edx, %eax
	outl	%eax, $0x11
	jmp	0b
dw_guest_end:
	.code64
	.section .note.GNU-stack, "", @progbits
