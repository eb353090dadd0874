/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest programs live in .S files between two symbols:
 *
 *   GUEST_BEGIN(name)            .code64 (or .code32/.code16) instructions
 *   ...
 *   GUEST_END(name)
 *
 * and C++ refers to them with GUEST_DECLARE(name) and GUEST(name), which gives
 * a kt::GuestCode to copy into guest memory (normally at CODE_GPA). The code is
 * copied as bytes: only relative branches and RIP-relative data are position-
 * independent; absolute addresses must use CODE_GPA + (label - name).
 */
#ifndef SELFTESTS_LIB_GUEST_CODE_H
#define SELFTESTS_LIB_GUEST_CODE_H

#ifdef __ASSEMBLER__
/* Assembler syntax, which clang-format would mangle: */
/* clang-format off */

#define GUEST_BEGIN(name)                                                                          \
	.section .rodata.guest, "a";                                                               \
	.globl name;                                                                               \
	.globl name##_end;                                                                         \
	name:

#define GUEST_END(name)                                                                            \
	name##_end:                                                                                \
	.previous

/* A label the test can find: GUEST_GPA(name, label) in C++. */
#define GUEST_LABEL(label)                                                                         \
	.globl label;                                                                              \
	label:

/* Offset of a label inside guest `name` when loaded at CODE_GPA. */
#define GUEST_ADDR(name, label) (CODE_GPA + ((label) - (name)))

/* clang-format on */
#else

#include <cstdint>

#define GUEST_DECLARE(name)	   extern "C" const uint8_t name[], name##_end[]
#define GUEST(name)		   (kt::GuestCode{name, name##_end})
#define GUEST_LABEL_DECLARE(label) extern "C" const uint8_t label[]
/* The GPA of a GUEST_LABEL inside guest `name` loaded at CODE_GPA. */
#define GUEST_GPA(name, label)	   ((uint64_t)CODE_GPA + (uint64_t)((label) - (name)))

#endif
#endif
