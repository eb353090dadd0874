/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory layout of the debug-register tests' guests, on top of layout.h.
 * Only #defines: the guest runtime (lib/debug_rt.S) includes it too.
 *
 *   IDT_GPA          256 long-mode gates (interrupt gates to the runtime's stubs)
 *   DBG_RT_GPA       the runtime: one stub per vector 0-31 and a common handler
 *   DBG_DATA_GPA     what the handler records (read by the test from host memory)
 *   DBG_TSS_GPA      a 64-bit TSS (RSP0) for guests that drop to ring 3
 */
#ifndef SELFTESTS_LIB_DBG_LAYOUT_H
#define SELFTESTS_LIB_DBG_LAYOUT_H

#define IDT_GPA		    0x30000
#define DBG_RT_GPA	    0x40000
#define DBG_TSS_GPA	    0x48000
#define DBG_USER_STACK_TOP  0x5f000 /* ring-3 stack, inside the scratch area */
#define DBG_RING0_STACK_TOP 0xd000  /* TSS.RSP0: below the main stack at STACK_TOP */

#define DBG_DATA_GPA  0x50000
/* Handler state and results, u64 each. */
#define DBG_COUNT     (DBG_DATA_GPA + 0x00) /* exceptions taken (all vectors) */
#define DBG_FIXUP     (DBG_DATA_GPA + 0x08) /* #UD/#GP/#AC resume RIP (0: unexpected), cleared on use */
#define DBG_RF_MASK   (DBG_DATA_GPA + 0x10) /* #DB with DR6 & mask: set RFLAGS.RF (code bps) */
#define DBG_DEPTH     (DBG_DATA_GPA + 0x18) /* handler nesting: > 3 is a #DB loop */
#define DBG_WRONG     (DBG_DATA_GPA + 0x20) /* #DB with Bn at a RIP != DBG_EXPECT[n] */
#define DBG_NOCLEAR   (DBG_DATA_GPA + 0x28) /* non-zero: the handler leaves DR6 alone */
#define DBG_BHITS     (DBG_DATA_GPA + 0x40) /* [4]: #DBs with DR6.Bn set, per n */
#define DBG_EXPECT    (DBG_DATA_GPA + 0x60) /* [4]: expected RIP for Bn (0: any) */
#define DBG_LOG	      (DBG_DATA_GPA + 0x100) /* [DBG_LOG_MAX] {vector, rip, dr6|err, dr7} */
#define DBG_LOG_MAX   64
#define DBG_LOG_ENTRY 32
#define DBG_WATCH     (DBG_DATA_GPA + 0x1000) /* 4 dwords at +0, +0x10, +0x20, +0x30 */
#define DBG_PARAM     (DBG_DATA_GPA + 0x2000) /* test -> guest parameters, u64 each */
#define DBG_OUT	      (DBG_DATA_GPA + 0x3000) /* guest -> test results, u64 each */

/* The handler OUTs the vector, then the RIP, here for an exception it does not expect. */
#define PORT_UNEXPECTED 0xEB

/* Extra GDT descriptors after the library's (layout.h SEL_*). */
#define SEL_UCODE64	0x28 /* DPL 3, L=1 (use with RPL 3: 0x2b) */
#define SEL_UDATA	0x30 /* DPL 3 (RPL 3: 0x33) */
#define SEL_TSS		0x38 /* 16-byte 64-bit TSS descriptor */
#define DBG_GDT_ENTRIES 9

#endif
