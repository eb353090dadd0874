/* SPDX-License-Identifier: GPL-2.0 */
/* The demo's guest: a few exits of each common kind, in 64-bit long mode. */
#include "guest_code.h"
#include "layout.h"

	.code64
GUEST_BEGIN(guest_demo)
	mov	$6, %eax		/* compute 6 * 7 and report it */
	imul	$7, %eax
	out	%eax, $PORT_REPORT
	mov	$0x3f8, %dx		/* "Hi\n" to a serial port, one byte at a time */
	mov	$'H', %al
	out	%al, (%dx)
	mov	$'i', %al
	out	%al, (%dx)
	mov	$'\n', %al
	out	%al, (%dx)
	movl	$0xfeedface, MMIO_GPA	/* a device register write (no memory there) */
	mov	MMIO_GPA + 8, %eax	/* a device register read */
	add	$1, %eax
	out	%eax, $PORT_REPORT	/* report what the "device" said, plus one */
	hlt
GUEST_END(guest_demo)

	.section .note.GNU-stack, "", @progbits
