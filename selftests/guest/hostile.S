/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for hostile_test: a guest that reaches for host state. Each case runs
 * the dangerous instruction once with a #UD/#GP fixup (the debug runtime's DBG_FIXUP)
 * and halts; the test reads the handler's log.
 */
#include "dbg_layout.h"
#include "guest_code.h"
#include "layout.h"

/* The handler resumes a #UD/#GP at `label` (in ring 0). */
#define FIXUP(label)                                                                               \
	lea	label(%rip), %rdx;                                                                 \
	mov	%rdx, DBG_FIXUP

	.code64
GUEST_BEGIN(guest_hostile)
	hlt

/* MOV to CR4 with the bits of DBG_PARAM set. If it does not fault, CR4 is read back to
 * DBG_OUT and restored. */
GUEST_LABEL(hz_cr4)
	mov	DBG_PARAM, %rbx
	mov	%cr4, %rax
	mov	%rax, %rsi			/* the old value */
	or	%rbx, %rax
	FIXUP(1f)
GUEST_LABEL(hz_cr4_insn)
	mov	%rax, %cr4
	mov	%cr4, %rax
	mov	%rax, DBG_OUT
	mov	%rsi, %cr4
1:	hlt

/* WRPKRU (0F 01 EF) with EAX = DBG_PARAM: #UD unless CR4.PKE. */
GUEST_LABEL(hz_wrpkru)
	mov	DBG_PARAM, %rax
	xor	%ecx, %ecx
	xor	%edx, %edx
	FIXUP(1f)
GUEST_LABEL(hz_wrpkru_insn)
	.byte	0x0f, 0x01, 0xef
1:	hlt

/* CR4.PKE, then WRPKRU with EAX = DBG_PARAM, then CR4.PKE off again. Where CR4.PKE
 * faults (#GP), nothing else runs. */
GUEST_LABEL(hz_pke_wrpkru)
	mov	%cr4, %rax
	mov	%rax, %rsi
	or	$(1 << 22), %rax
	FIXUP(1f)
GUEST_LABEL(hz_pke_insn)
	mov	%rax, %cr4
	mov	DBG_PARAM, %rax
	xor	%ecx, %ecx
	xor	%edx, %edx
	.byte	0x0f, 0x01, 0xef		/* WRPKRU */
	.byte	0x0f, 0x01, 0xee		/* RDPKRU */
	mov	%rax, DBG_OUT
	movq	$1, DBG_OUT + 8
	mov	%rsi, %cr4
1:	hlt

/* RDTSCP (ECX) and RDPID: the guest's IA32_TSC_AUX, never the host's; DBG_OUT and
 * DBG_OUT + 8 stay -1 where the instruction faults (#UD). */
GUEST_LABEL(hz_tscaux)
	movq	$-1, DBG_OUT
	movq	$-1, DBG_OUT + 8
	FIXUP(1f)
GUEST_LABEL(hz_rdtscp_insn)
	rdtscp
	mov	%rcx, DBG_OUT
1:	FIXUP(2f)
GUEST_LABEL(hz_rdpid_insn)
	rdpid	%rax
	mov	%rax, DBG_OUT + 8
2:	hlt

/* SSE state: CR4.OSFXSR on, XMM15 = DBG_PARAM, an exit to user space (OUT), then XMM15
 * stored to DBG_OUT: the guest's register must survive the VMM's own use of XMM15. */
GUEST_LABEL(hz_sse)
	mov	%cr0, %rax
	and	$~(1 << 2), %rax		/* EM off */
	or	$(1 << 1), %rax			/* MP on */
	mov	%rax, %cr0
	mov	%cr4, %rax
	or	$(1 << 9), %rax			/* OSFXSR */
	mov	%rax, %cr4
	movq	DBG_PARAM, %xmm15
	out	%eax, $PORT_REPORT
	movq	%xmm15, DBG_OUT
	hlt

/* RDPMC of counter DBG_PARAM: #GP without a virtual PMU. */
GUEST_LABEL(hz_rdpmc)
	mov	DBG_PARAM, %rcx
	FIXUP(1f)
GUEST_LABEL(hz_rdpmc_insn)
	rdpmc
	mov	%rax, DBG_OUT
	mov	%rdx, DBG_OUT + 8
1:	hlt

/* XSETBV of XCR0 = DBG_PARAM: #UD (no CR4.OSXSAVE). */
GUEST_LABEL(hz_xsetbv)
	mov	DBG_PARAM, %rax
	xor	%ecx, %ecx
	xor	%edx, %edx
	FIXUP(1f)
GUEST_LABEL(hz_xsetbv_insn)
	xsetbv
1:	hlt
/* A split lock at CPL 0 with CR0.AM = 1 and RFLAGS.AC = 1: LOCK ADD of 1 to the 8 bytes
 * at DBG_OUT + 0x7c, across the cache line at DBG_OUT + 0x80, first set to DBG_PARAM.
 * No alignment check at CPL 0 (SDM Vol. 3, 6.15), and a host's split-lock #AC is the
 * host's business: the guest sees nothing. DBG_OUT = the sum. */
#define SPLIT (DBG_OUT + 0x7c)
GUEST_LABEL(hz_split_lock)
	mov	%cr0, %rsi
	mov	%rsi, %rax
	or	$(1 << 18), %rax		/* CR0.AM */
	mov	%rax, %cr0
	mov	DBG_PARAM, %rax
	mov	%rax, SPLIT
	pushf
	orl	$(1 << 18), (%rsp)		/* RFLAGS.AC */
	popf
GUEST_LABEL(hz_split_lock_insn)
	lock addq $1, SPLIT
	pushf
	andl	$~(1 << 18), (%rsp)
	popf
	mov	SPLIT, %rax
	mov	%rax, DBG_OUT
	mov	%rsi, %cr0
	hlt

/* The guest's own alignment check: CR0.AM = 1, then a misaligned load at CPL 3 with
 * RFLAGS.AC = 1 is #AC(0) for the guest's handler (SDM Vol. 3, 6.15), which resumes in
 * ring 0 at 1:. A CPU model without alignment checks runs on into OUT, a #GP at CPL 3
 * (IOPL 0, no I/O bitmap), which resumes there too. */
GUEST_LABEL(hz_user_ac)
	mov	%cr0, %rsi
	mov	%rsi, %rax
	or	$(1 << 18), %rax		/* CR0.AM */
	mov	%rax, %cr0
	FIXUP(1f)
	pushq	$(SEL_UDATA | 3)
	pushq	$DBG_USER_STACK_TOP
	pushq	$((1 << 18) | 2)		/* RFLAGS: AC, IF = 0 */
	pushq	$(SEL_UCODE64 | 3)
	lea	hz_user_ac_insn(%rip), %rax
	push	%rax
	iretq
GUEST_LABEL(hz_user_ac_insn)
	mov	DBG_OUT + 0x101, %eax		/* misaligned */
GUEST_LABEL(hz_user_ac_out)
	out	%eax, $PORT_REPORT
1:	mov	$STACK_TOP, %esp
	pushf
	andl	$~(1 << 18), (%rsp)
	popf
	mov	%rsi, %cr0
	hlt

/* WBINVD and WBNOINVD (F3 0F 09, WBINVD where the CPU lacks it): they exit or run, and
 * the guest goes on. DBG_OUT = 1. */
GUEST_LABEL(hz_wbinvd)
	wbinvd
	.byte	0xf3, 0x0f, 0x09
	movq	$1, DBG_OUT
	hlt

/* DR0 = DBG_PARAM (an address of the VMM's), DR7 = DBG_PARAM + 8, and exit armed: the
 * breakpoint is the guest's and must never fire in the host. */
GUEST_LABEL(hz_dr7)
	mov	DBG_PARAM, %rax
	mov	%rax, %dr0
	mov	DBG_PARAM + 8, %rax
	mov	%rax, %dr7
	hlt

/* WRMSR of DBG_PARAM[0] pairs {MSR, value} from DBG_PARAM + 8: DBG_OUT[i] = 1 when the
 * i-th write took, 2 when it faulted (#GP: the handler resumes at the next pair). */
GUEST_LABEL(hz_wrmsr)
	xor	%ebx, %ebx
1:	cmp	DBG_PARAM, %rbx
	jae	3f
	movq	$2, DBG_OUT(, %rbx, 8)
	FIXUP(2f)
	mov	%rbx, %rdi
	shl	$4, %rdi
	mov	DBG_PARAM + 8(%rdi), %rcx
	mov	DBG_PARAM + 16(%rdi), %rax
	mov	%rax, %rdx
	shr	$32, %rdx
GUEST_LABEL(hz_wrmsr_insn)
	wrmsr
	movq	$1, DBG_OUT(, %rbx, 8)
	movq	$0, DBG_FIXUP
2:	inc	%rbx
	jmp	1b
3:	hlt
GUEST_END(guest_hostile)

	.section .note.GNU-stack, "", @progbits
