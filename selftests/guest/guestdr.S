/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for guestdr_test: guests that own their debug registers (no
 * userspace debugging) and handle #DB/#UD/#GP in their own IDT handlers
 * (lib/debug_rt.S records them). One blob, several entry points.
 */
#include "dbg_layout.h"
#include "guest_code.h"
#include "layout.h"

/* The handler resumes a #UD/#GP at `label` (in ring 0). */
#define FIXUP(label)                                                                               \
	lea	label(%rip), %rdx;                                                                 \
	mov	%rdx, DBG_FIXUP

	.code64
GUEST_BEGIN(guest_guestdr)
	hlt

/* Execute breakpoints on DR0-3 (global enables, R/W 00, LEN 00), hit in order. */
GUEST_LABEL(gr_exec)
	movq	$0xf, DBG_RF_MASK
	lea	gr_t0(%rip), %rax
	mov	%rax, %dr0
	mov	%rax, DBG_EXPECT
	lea	gr_t1(%rip), %rax
	mov	%rax, %dr1
	mov	%rax, DBG_EXPECT + 8
	lea	gr_t2(%rip), %rax
	mov	%rax, %dr2
	mov	%rax, DBG_EXPECT + 16
	lea	gr_t3(%rip), %rax
	mov	%rax, %dr3
	mov	%rax, DBG_EXPECT + 24
	mov	$0x4aa, %eax
	mov	%rax, %dr7
GUEST_LABEL(gr_t0)
	nop
GUEST_LABEL(gr_t1)
	nop
GUEST_LABEL(gr_t2)
	nop
GUEST_LABEL(gr_t3)
	nop
	mov	$0x400, %eax
	mov	%rax, %dr7
	out	%eax, $PORT_DONE
	hlt

/* 4-byte write watchpoints on DR0-3 (R/W 01, LEN 11): traps after each write. */
GUEST_LABEL(gr_write)
	mov	$DBG_WATCH, %eax
	mov	%rax, %dr0
	add	$0x10, %eax
	mov	%rax, %dr1
	add	$0x10, %eax
	mov	%rax, %dr2
	add	$0x10, %eax
	mov	%rax, %dr3
	mov	$0xdddd04aa, %eax
	mov	%rax, %dr7
	movl	$1, DBG_WATCH
GUEST_LABEL(gr_w0)
	movl	$2, DBG_WATCH + 0x10
GUEST_LABEL(gr_w1)
	movl	$3, DBG_WATCH + 0x20
GUEST_LABEL(gr_w2)
	movl	$4, DBG_WATCH + 0x30
GUEST_LABEL(gr_w3)
	mov	$0x400, %eax
	mov	%rax, %dr7
	out	%eax, $PORT_DONE
	hlt

/*
 * DR4/DR5 alias DR6/DR7 while CR4.DE = 0 (SDM Vol. 3B 17.2.2), and raise #UD
 * with CR4.DE = 1. Results in DBG_OUT[0..4].
 */
GUEST_LABEL(gr_alias)
	mov	$0xf, %eax
	mov	%rax, %dr4
	mov	%dr6, %rax
	mov	%rax, DBG_OUT
	mov	$0x100, %eax
	mov	%rax, %dr5
	mov	%dr7, %rax
	mov	%rax, DBG_OUT + 8
	mov	%dr4, %rax
	mov	%rax, DBG_OUT + 16
	mov	%dr5, %rax
	mov	%rax, DBG_OUT + 24
	mov	$0x400, %eax
	mov	%rax, %dr7
	mov	$0xffff0ff0, %eax
	mov	%rax, %dr6
	mov	%cr4, %rax
	or	$8, %rax			/* CR4.DE */
	mov	%rax, %cr4
	FIXUP(1f)
GUEST_LABEL(gr_alias_ud1)
	mov	%dr4, %rax
1:	FIXUP(2f)
GUEST_LABEL(gr_alias_ud2)
	mov	%rax, %dr5
2:	mov	%dr6, %rax			/* DR6/DR7 themselves still work */
	mov	%rax, DBG_OUT + 32
	mov	%cr4, %rax
	and	$~8, %rax
	mov	%rax, %cr4
	out	%eax, $PORT_DONE
	hlt

/* MOV to DR6/DR7 with bits 63:32 set: #GP(0) (SDM Vol. 3B 17.2.4, KVM's kvm_set_dr). */
GUEST_LABEL(gr_upper)
	movabs	$0x1ffff0ff0, %rax
	FIXUP(1f)
GUEST_LABEL(gr_upper_gp1)
	mov	%rax, %dr6
1:	movabs	$0x100000400, %rax
	FIXUP(2f)
GUEST_LABEL(gr_upper_gp2)
	mov	%rax, %dr7
2:	mov	%dr6, %rax
	mov	%rax, DBG_OUT
	mov	%dr7, %rax
	mov	%rax, DBG_OUT + 8
	out	%eax, $PORT_DONE
	hlt

/*
 * Write/read-back table: DBG_PARAM[0] = n, then n pairs {register (6|7),
 * value}; DBG_OUT[i] = what the register reads after the write.
 */
GUEST_LABEL(gr_rw)
	mov	DBG_PARAM, %rcx
	mov	$DBG_PARAM + 8, %esi
	mov	$DBG_OUT, %edi
3:	test	%rcx, %rcx
	jz	5f
	mov	8(%rsi), %rax
	cmpq	$7, (%rsi)
	je	4f
	mov	%rax, %dr6
	mov	%dr6, %rax
	jmp	6f
4:	mov	%rax, %dr7
	mov	%dr7, %rax
6:	mov	%rax, (%rdi)
	add	$16, %rsi
	add	$8, %rdi
	dec	%rcx
	jmp	3b
5:	mov	$0x400, %eax
	mov	%rax, %dr7
	out	%eax, $PORT_DONE
	hlt

/*
 * DR7.GD: the next MOV DR faults with #DB, DR6.BD set, and GD cleared on
 * delivery (SDM Vol. 3B 17.2.4), so the MOV then runs. DBG_OUT[0] = DR7 after.
 */
GUEST_LABEL(gr_gd)
	mov	$0x2400, %eax
	mov	%rax, %dr7
GUEST_LABEL(gr_gd_mov)
	mov	%dr0, %rax
	mov	%dr7, %rax
	mov	%rax, DBG_OUT
	out	%eax, $PORT_DONE
	hlt

/* MOV DR at CPL 3: #GP(0). Drops to ring 3 twice (a read, then a write). */
GUEST_LABEL(gr_cpl3)
	FIXUP(1f)
	pushq	$(SEL_UDATA | 3)
	pushq	$DBG_USER_STACK_TOP
	pushq	$2
	pushq	$(SEL_UCODE64 | 3)
	lea	gr_cpl3_gp1(%rip), %rax
	push	%rax
	iretq
GUEST_LABEL(gr_cpl3_gp1)
	mov	%dr7, %rax
	out	%eax, $PORT_DONE		/* not reached: IN/OUT at CPL 3 #GPs too */
1:	mov	$STACK_TOP, %esp
	FIXUP(2f)
	pushq	$(SEL_UDATA | 3)
	pushq	$DBG_USER_STACK_TOP
	pushq	$2
	pushq	$(SEL_UCODE64 | 3)
	lea	gr_cpl3_gp2(%rip), %rax
	push	%rax
	iretq
GUEST_LABEL(gr_cpl3_gp2)
	mov	%rax, %dr0
	out	%eax, $PORT_DONE
2:	mov	$STACK_TOP, %esp
	out	%eax, $PORT_DONE
	hlt

/*
 * KVM_SET_DEBUGREGS -> guest: DBG_OUT[0..5] = DR0-3, DR6, DR7 as the guest
 * reads them; then it writes DBG_PARAM[0..5] to them and exits (PORT_DONE);
 * DBG_OUT[6..11] = what it reads after that exit.
 */
GUEST_LABEL(gr_sync)
	mov	$DBG_OUT, %edi
	call	gr_read_all
	mov	DBG_PARAM, %rax
	mov	%rax, %dr0
	mov	DBG_PARAM + 8, %rax
	mov	%rax, %dr1
	mov	DBG_PARAM + 16, %rax
	mov	%rax, %dr2
	mov	DBG_PARAM + 24, %rax
	mov	%rax, %dr3
	mov	DBG_PARAM + 32, %rax
	mov	%rax, %dr6
	mov	DBG_PARAM + 40, %rax
	mov	%rax, %dr7
	out	%eax, $PORT_DONE
	mov	$DBG_OUT + 48, %edi
	call	gr_read_all
	hlt
gr_read_all:
	mov	%dr0, %rax
	mov	%rax, (%rdi)
	mov	%dr1, %rax
	mov	%rax, 8(%rdi)
	mov	%dr2, %rax
	mov	%rax, 16(%rdi)
	mov	%dr3, %rax
	mov	%rax, 24(%rdi)
	mov	%dr6, %rax
	mov	%rax, 32(%rdi)
	mov	%dr7, %rax
	mov	%rax, 40(%rdi)
	ret
GUEST_END(guest_guestdr)

	.section .note.GNU-stack, "", @progbits
