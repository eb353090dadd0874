/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest programs for modes_test: each computes something in its mode and
 * reports with OUT to PORT_REPORT, then HLTs.
 */
#include "guest_code.h"
#include "layout.h"

/*
 * Real mode, CS = CODE_GPA >> 4. Reports: sum(1..100) = 5050, the same value
 * through the stack, the dword the test put at DATA_GPA (reached with
 * DS = DATA_GPA >> 4), CS and CR0. Writes ~dword to DATA_GPA + 4.
 */
	.code16
GUEST_BEGIN(guest_real)
	xor	%ax, %ax
	mov	$1, %cx
1:	add	%cx, %ax
	inc	%cx
	cmp	$101, %cx
	jne	1b
	out	%ax, $PORT_REPORT
	push	%ax
	xor	%ax, %ax
	pop	%bx
	mov	%bx, %ax
	out	%ax, $PORT_REPORT
	mov	$(DATA_GPA >> 4), %ax
	mov	%ax, %ds
	mov	0x0, %eax
	out	%eax, $PORT_REPORT
	not	%eax
	mov	%eax, 0x4
	mov	%cs, %ax
	out	%ax, $PORT_REPORT
	mov	%cr0, %eax
	out	%eax, $PORT_REPORT
	hlt
GUEST_END(guest_real)

/*
 * Starts in real mode and enters 32-bit protected mode itself: LGDT (the
 * library's GDT), CR0.PE, far jump to SEL_CODE32. Reports CR0, CS, and a
 * value it wrote at DATA_GPA (above 64 KiB) through the flat data segment.
 */
	.code16
GUEST_BEGIN(guest_real_to_prot)
	cli
	lgdtl	%cs:(gdtr_r2p - guest_real_to_prot)
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmpl	$SEL_CODE32, $GUEST_ADDR(guest_real_to_prot, 1f)
	.code32
1:	mov	$SEL_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$STACK_TOP, %esp
	mov	%cr0, %eax
	out	%eax, $PORT_REPORT
	mov	%cs, %eax
	out	%eax, $PORT_REPORT
	movl	$0x12345678, DATA_GPA
	mov	DATA_GPA, %eax
	out	%eax, $PORT_REPORT
	hlt
gdtr_r2p:
	.word	GDT_ENTRIES * 8 - 1
	.long	GDT_GPA
GUEST_END(guest_real_to_prot)

/*
 * 32-bit protected mode, flat. Reports 10! = 3628800, then after a far jump
 * through the GDT: host dword at DATA_GPA + 1 (also written to DATA_GPA + 4),
 * a value returned by CALL/RET, CS, CR0.
 */
	.code32
GUEST_BEGIN(guest_prot32)
	mov	$1, %eax
	mov	$1, %ecx
1:	imul	%ecx, %eax
	inc	%ecx
	cmp	$11, %ecx
	jne	1b
	out	%eax, $PORT_REPORT
	ljmp	$SEL_CODE32, $GUEST_ADDR(guest_prot32, 2f)
2:	mov	$SEL_DATA, %bx
	mov	%bx, %ds
	mov	%bx, %ss
	mov	DATA_GPA, %eax
	add	$1, %eax
	mov	%eax, DATA_GPA + 4
	out	%eax, $PORT_REPORT
	call	3f
	out	%eax, $PORT_REPORT
	mov	%cs, %eax
	out	%eax, $PORT_REPORT
	mov	%cr0, %eax
	out	%eax, $PORT_REPORT
	hlt
3:	mov	$0xc0ffee, %eax
	ret
GUEST_END(guest_prot32)

/*
 * 64-bit long mode. Reports the low and high halves of
 * 0x0123456789abcdef << 4, CS after a far return through the GDT, CR0, CR4.
 * Writes ~qword(DATA_GPA) to DATA_GPA + 8.
 */
	.code64
GUEST_BEGIN(guest_long64)
	movabs	$0x0123456789abcdef, %rax
	shl	$4, %rax
	out	%eax, $PORT_REPORT
	shr	$32, %rax
	out	%eax, $PORT_REPORT
	mov	DATA_GPA, %rax
	not	%rax
	mov	%rax, DATA_GPA + 8
	pushq	$SEL_CODE64
	lea	1f(%rip), %rax
	push	%rax
	lretq
1:	mov	%cs, %eax
	out	%eax, $PORT_REPORT
	mov	%cr0, %rax
	out	%eax, $PORT_REPORT
	mov	%cr4, %rax
	out	%eax, $PORT_REPORT
	hlt
GUEST_END(guest_long64)

/* Long mode, memory above 4 GiB: qword at HIGH_GPA + 1 -> HIGH_GPA + 8, reported. */
	.code64
GUEST_BEGIN(guest_long64_high)
	movabs	$HIGH_GPA, %rbx
	mov	(%rbx), %rax
	add	$1, %rax
	mov	%rax, 8(%rbx)
	out	%eax, $PORT_REPORT
	shr	$32, %rax
	out	%eax, $PORT_REPORT
	hlt
GUEST_END(guest_long64_high)

	.section .note.GNU-stack, "", @progbits
