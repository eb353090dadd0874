/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest memory layout shared by the library (C++) and the guest programs (.S).
 * Only #defines: this header is included by the assembler too.
 *
 * Slot 0 covers GPA 0 .. GUEST_MEM_SIZE and holds everything below.
 * Nothing is mapped at MMIO_GPA: accesses there exit with KVM_EXIT_MMIO.
 */
#ifndef SELFTESTS_LIB_LAYOUT_H
#define SELFTESTS_LIB_LAYOUT_H

#define PAGE_SIZE_4K 0x1000

#define GUEST_MEM_SLOT 0
#define GUEST_MEM_SIZE 0x200000 /* 2 MiB at GPA 0 */

#define GDT_GPA	  0x1000 /* flat GDT, see SEL_* */
#define PML4_GPA  0x2000 /* long mode identity map: PML4, PDPT, 8 PDs */
#define PDPT_GPA  0x3000
#define PD_GPA	  0x4000 /* 8 pages: 0 .. 8 GiB with 2 MiB pages */
#define PD_COUNT  8
#define STACK_TOP 0xF000  /* initial RSP; the stack grows down towards the PDs */
#define CODE_GPA  0x10000 /* guest code is copied here (real mode: CS = 0x1000) */
#define CODE_MAX  0x10000
#define DATA_GPA  0x20000 /* scratch data shared with the test */

#define MMIO_GPA 0x10000000  /* 256 MiB: no memory slot */
#define HIGH_GPA 0x100000000 /* 4 GiB: tests may add a slot here */

/* GDT selectors (descriptors built by guest.cpp at GDT_GPA). */
#define SEL_CODE64  0x08 /* L=1 D=0 */
#define SEL_DATA    0x10 /* flat 4 GiB read/write */
#define SEL_CODE32  0x18 /* flat 4 GiB, D=1 */
#define SEL_CODE16  0x20 /* 64 KiB, D=0: for returning to real mode */
#define GDT_ENTRIES 5

/* "ucall" ports: the guest reports values with OUT, the test reads KVM_EXIT_IO. */
#define PORT_REPORT 0xE9 /* OUT: one value (any width) to record */
#define PORT_DONE   0xEA /* OUT: the guest program finished its work */

#endif
