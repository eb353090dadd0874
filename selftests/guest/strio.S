/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest programs for strio_test: one per mode, each a table of string I/O steps, 8
 * bytes apart (step i at offset 8 * i), each an INS/OUTS and a HLT. The test sets rSI,
 * rDI, rCX, DX and RFLAGS.DF, points RIP at a step and runs it to its HLT:
 *   0-2  REP OUTSB/W/D    3-5  REP INSB/W/D    6-8  OUTSB/W/D    9-11 INSB/W/D
 *   12   REP OUTSB with an FS override
 */
#include "guest_code.h"
#include "layout.h"

#define STEP(insn...) .balign 8, 0xcc; insn; hlt

/* The table; `si` is the source index register of the mode, for the FS override. */
.macro STEPS si
	STEP(rep outsb)
	STEP(rep outsw)
	STEP(rep outsl)
	STEP(rep insb)
	STEP(rep insw)
	STEP(rep insl)
	STEP(outsb)
	STEP(outsw)
	STEP(outsl)
	STEP(insb)
	STEP(insw)
	STEP(insl)
	STEP(rep outsb %fs:(\si), (%dx))
.endm

/* Each guest starts 8-byte aligned in its section, so its steps are too. */
	.code16
	.pushsection .rodata.guest, "a"
	.balign 8
	.popsection
GUEST_BEGIN(guest_strio16)
	STEPS %si
GUEST_END(guest_strio16)

	.code32
	.pushsection .rodata.guest, "a"
	.balign 8
	.popsection
GUEST_BEGIN(guest_strio32)
	STEPS %esi
GUEST_END(guest_strio32)

	.code64
	.pushsection .rodata.guest, "a"
	.balign 8
	.popsection
GUEST_BEGIN(guest_strio64)
	STEPS %rsi
GUEST_END(guest_strio64)

	.section .note.GNU-stack, "", @progbits
