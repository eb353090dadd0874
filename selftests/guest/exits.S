/* SPDX-License-Identifier: GPL-2.0 */
/* Guest programs for exits_test, 64-bit unless marked. */
#include "guest_code.h"
#include "layout.h"

#define PATTERN 0x1122334455667788

/* OUT with sizes 1, 2, 4, immediate and DX ports. */
	.code64
GUEST_BEGIN(guest_out)
	mov	$0x11, %al
	out	%al, $0x10
	mov	$0x2233, %ax
	out	%ax, $0x12
	mov	$0x44556677, %eax
	out	%eax, $0x14
	mov	$0x3f8, %dx
	mov	$0x99, %al
	out	%al, (%dx)
	mov	$0xcafe, %dx
	mov	$0xdeadbeef, %eax
	out	%eax, (%dx)
	hlt
GUEST_END(guest_out)

/* IN with sizes 1, 2, 4 into a RAX preset to PATTERN; HLT after each. */
	.code64
GUEST_BEGIN(guest_in)
	movabs	$PATTERN, %rax
	in	$0x20, %al
	hlt
	movabs	$PATTERN, %rax
	in	$0x22, %ax
	hlt
	movabs	$PATTERN, %rax
	in	$0x24, %eax
	hlt
	movabs	$PATTERN, %rax
	mov	$0x3f8, %dx
	in	(%dx), %al
	hlt
GUEST_END(guest_in)

/* MMIO writes of 1, 2, 4, 8 bytes to addresses without a memory slot. */
	.code64
GUEST_BEGIN(guest_mmio_write)
	movb	$0x11, MMIO_GPA
	movw	$0x2233, MMIO_GPA + 0x10
	movl	$0x44556677, MMIO_GPA + 0x20
	movabs	$0x8899aabbccddeeff, %rax
	mov	%rax, MMIO_GPA + 0x30
	hlt
GUEST_END(guest_mmio_write)

/* MMIO reads of 1, 2, 4, 8 bytes into RBX preset to PATTERN; HLT after each. */
	.code64
GUEST_BEGIN(guest_mmio_read)
	movabs	$PATTERN, %rbx
	mov	MMIO_GPA, %bl
	hlt
GUEST_LABEL(guest_mmio_read_1)
	movabs	$PATTERN, %rbx
	mov	MMIO_GPA + 0x10, %bx
	hlt
GUEST_LABEL(guest_mmio_read_2)
	movabs	$PATTERN, %rbx
	mov	MMIO_GPA + 0x20, %ebx
	hlt
GUEST_LABEL(guest_mmio_read_4)
	movabs	$PATTERN, %rbx
	mov	MMIO_GPA + 0x30, %rbx
	hlt
GUEST_LABEL(guest_mmio_read_8)
	hlt
GUEST_END(guest_mmio_read)

/* MMIO in 32-bit protected mode (no paging): write, then read and report. */
	.code32
GUEST_BEGIN(guest_mmio_32)
	movl	$0x12345678, MMIO_GPA
	mov	MMIO_GPA + 4, %eax
	out	%eax, $PORT_REPORT
	hlt
GUEST_END(guest_mmio_32)

/* HLT, then a report: KVM_RUN after the HLT exit resumes after the HLT. */
	.code64
GUEST_BEGIN(guest_hlt)
	nop
	hlt
GUEST_LABEL(guest_hlt_after)
	mov	$0x4c54, %eax
	out	%eax, $PORT_REPORT
	hlt
GUEST_END(guest_hlt)

/* #UD with an empty IDT: #UD -> #GP -> #DF -> triple fault. */
	.code64
GUEST_BEGIN(guest_ud2)
	ud2
	hlt
GUEST_END(guest_ud2)

/* INT3 with an empty IDT (32-bit protected mode): #GP -> #DF -> triple fault. */
	.code32
GUEST_BEGIN(guest_int3_32)
	int3
	hlt
GUEST_END(guest_int3_32)

/* Just HLT: for entry failures. */
	.code64
GUEST_BEGIN(guest_just_hlt)
	hlt
GUEST_END(guest_just_hlt)

/*
 * x87 FLD from MMIO: neither the CPU (it exits for the MMIO access) nor KVM's
 * instruction emulator (no FLD m64) can complete it.
 */
	.code64
GUEST_BEGIN(guest_fld_mmio)
	fninit
	fldl	MMIO_GPA
	hlt
GUEST_END(guest_fld_mmio)

/* An endless loop: for KVM_RUN that has to be interrupted. */
	.code64
GUEST_BEGIN(guest_spin)
1:	pause
	jmp	1b
GUEST_END(guest_spin)

/* A 4-byte read of the last 2 bytes of slot 0 and the 2 after it (nothing there). */
GUEST_BEGIN(guest_mmio_straddle)
	movl	$0x5a5a5a5a, %ebx
	mov	GUEST_MEM_SIZE - 2, %ebx
	hlt
GUEST_END(guest_mmio_straddle)

	.section .note.GNU-stack, "", @progbits
