// SPDX-License-Identifier: GPL-2.0
// The VMCB (AMD APM Vol. 2, Appendix B "Layout of VMCB"): a 4 KiB page, control area at
// 0x000, state save area at 0x400. Offsets are checked at compile time.
#pragma once
#include "rt/types.hpp"

namespace dbgkvm::svm
{

struct VmcbSeg {
	u16 selector;
	u16 attrib; // descriptor bits 47:40 in 7:0, bits 55:52 in 11:8
	u32 limit;
	u64 base;
};

struct VmcbControl {
	u32 intercept_cr;	  // 0x000: reads 15:0, writes 31:16
	u32 intercept_dr;	  // 0x004: reads 15:0, writes 31:16
	u32 intercept_exceptions; // 0x008
	u32 intercept_misc1;	  // 0x00c
	u32 intercept_misc2;	  // 0x010
	u32 intercept_misc3;	  // 0x014
	u8 reserved1[0x3c - 0x18];
	u16 pause_filter_thresh; // 0x03c
	u16 pause_filter_count;	 // 0x03e
	u64 iopm_base_pa;	 // 0x040
	u64 msrpm_base_pa;	 // 0x048
	u64 tsc_offset;		 // 0x050
	u32 asid;		 // 0x058
	u8 tlb_ctl;		 // 0x05c
	u8 reserved2[3];
	u32 int_ctl;	// 0x060
	u32 int_vector; // 0x064
	u32 int_state;	// 0x068: bit 0 interrupt shadow
	u8 reserved3[4];
	u64 exit_code;	       // 0x070
	u64 exit_info_1;       // 0x078
	u64 exit_info_2;       // 0x080
	u32 exit_int_info;     // 0x088
	u32 exit_int_info_err; // 0x08c
	u64 nested_ctl;	       // 0x090: bit 0 NP_ENABLE
	u64 avic_vapic_bar;    // 0x098
	u64 ghcb_gpa;	       // 0x0a0
	u32 event_inj;	       // 0x0a8
	u32 event_inj_err;     // 0x0ac
	u64 nested_cr3;	       // 0x0b0
	u64 virt_ext;	       // 0x0b8
	u32 clean;	       // 0x0c0
	u32 reserved5;
	u64 next_rip; // 0x0c8
	u8 insn_len;  // 0x0d0
	u8 insn_bytes[15];
	u8 reserved6[0x400 - 0xe0];
};

struct VmcbSave {
	VmcbSeg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; // 0x400
	u8 reserved1[42];
	u8 vmpl; // 0x4ca
	u8 cpl;	 // 0x4cb
	u8 reserved2[4];
	u64 efer; // 0x4d0
	u8 reserved3[112];
	u64 cr4;    // 0x548
	u64 cr3;    // 0x550
	u64 cr0;    // 0x558
	u64 dr7;    // 0x560
	u64 dr6;    // 0x568
	u64 rflags; // 0x570
	u64 rip;    // 0x578
	u8 reserved4[88];
	u64 rsp;	    // 0x5d8
	u64 s_cet;	    // 0x5e0
	u64 ssp;	    // 0x5e8
	u64 isst_addr;	    // 0x5f0
	u64 rax;	    // 0x5f8
	u64 star;	    // 0x600
	u64 lstar;	    // 0x608
	u64 cstar;	    // 0x610
	u64 sfmask;	    // 0x618
	u64 kernel_gs_base; // 0x620
	u64 sysenter_cs;    // 0x628
	u64 sysenter_esp;   // 0x630
	u64 sysenter_eip;   // 0x638
	u64 cr2;	    // 0x640
	u8 reserved5[32];
	u64 g_pat;  // 0x668
	u64 dbgctl; // 0x670
};

struct Vmcb {
	VmcbControl control;
	VmcbSave save;
};

static_assert(__builtin_offsetof(VmcbControl, iopm_base_pa) == 0x40);
static_assert(__builtin_offsetof(VmcbControl, exit_code) == 0x70);
static_assert(__builtin_offsetof(VmcbControl, event_inj) == 0xa8);
static_assert(__builtin_offsetof(VmcbControl, next_rip) == 0xc8);
static_assert(sizeof(VmcbControl) == 0x400);
static_assert(__builtin_offsetof(Vmcb, save.cpl) == 0x4cb);
static_assert(__builtin_offsetof(Vmcb, save.efer) == 0x4d0);
static_assert(__builtin_offsetof(Vmcb, save.cr4) == 0x548);
static_assert(__builtin_offsetof(Vmcb, save.dr7) == 0x560);
static_assert(__builtin_offsetof(Vmcb, save.rsp) == 0x5d8);
static_assert(__builtin_offsetof(Vmcb, save.rax) == 0x5f8);
static_assert(__builtin_offsetof(Vmcb, save.cr2) == 0x640);
static_assert(__builtin_offsetof(Vmcb, save.g_pat) == 0x668);
static_assert(sizeof(Vmcb) <= 4096);

// Intercept vector 3 (misc1), APM Table B-1.
enum Misc1 : u32 {
	INTERCEPT_INTR = 1u << 0,
	INTERCEPT_NMI = 1u << 1,
	INTERCEPT_SMI = 1u << 2,
	INTERCEPT_RDPMC = 1u << 15,
	INTERCEPT_CPUID = 1u << 18,
	INTERCEPT_RSM = 1u << 19,
	INTERCEPT_INVD = 1u << 22,
	INTERCEPT_HLT = 1u << 24,
	INTERCEPT_INVLPGA = 1u << 26,
	INTERCEPT_IOIO_PROT = 1u << 27,
	INTERCEPT_MSR_PROT = 1u << 28,
	INTERCEPT_TASK_SWITCH = 1u << 29,
	INTERCEPT_SHUTDOWN = 1u << 31,
};

// Intercept vector 4 (misc2).
enum Misc2 : u32 {
	INTERCEPT_VMRUN = 1u << 0, // required: VMRUN fails without it
	INTERCEPT_VMMCALL = 1u << 1,
	INTERCEPT_VMLOAD = 1u << 2,
	INTERCEPT_VMSAVE = 1u << 3,
	INTERCEPT_STGI = 1u << 4,
	INTERCEPT_CLGI = 1u << 5,
	INTERCEPT_SKINIT = 1u << 6,
	INTERCEPT_WBINVD = 1u << 9,
	INTERCEPT_MONITOR = 1u << 10,
	INTERCEPT_MWAIT = 1u << 11,
	INTERCEPT_XSETBV = 1u << 13,
};

// Reads of DR0-7 (bits 7:0) and writes of DR0-7 (bits 23:16), as KVM intercepts them.
inline constexpr u32 DR_INTERCEPT_ALL = 0x00ff00ff;
inline constexpr u32 CR4_WRITE_INTERCEPT = 1u << (16 + 4);
inline constexpr u32 V_INTR_MASKING = 1u << 24; // int_ctl: the host's RFLAGS.IF masks INTR
inline constexpr u32 V_TPR_MASK = 0xf;		// int_ctl: the guest's CR8 (APM 15.21.1)
inline constexpr u64 NP_ENABLE = 1;
inline constexpr u8 TLB_CONTROL_DO_NOTHING = 0;
inline constexpr u8 TLB_CONTROL_FLUSH_ALL = 1;

// EVENTINJ / EXITINTINFO (APM 15.20).
inline constexpr u32 EVT_VALID = 1u << 31;
inline constexpr u32 EVT_ERR_VALID = 1u << 11;
inline constexpr u32 EVT_TYPE_SHIFT = 8;
inline constexpr u32 EVT_TYPE_MASK = 7u << 8;
enum EventType : u32 {
	EVT_INTR = 0,
	EVT_NMI = 2,
	EVT_EXCEPTION = 3,
	EVT_SOFT_INT = 4
};

// Exit codes (APM Appendix C).
enum ExitCode : u32 {
	EXIT_WRITE_CR4 = 0x14,
	EXIT_READ_DR0 = 0x20,
	EXIT_WRITE_DR0 = 0x30,
	EXIT_EXCP_BASE = 0x40,
	EXIT_INTR = 0x60,
	EXIT_NMI = 0x61,
	EXIT_SMI = 0x62,
	EXIT_INIT = 0x63,
	EXIT_CPUID = 0x72,
	EXIT_RSM = 0x73,
	EXIT_INVD = 0x76,
	EXIT_HLT = 0x78,
	EXIT_INVLPGA = 0x7a,
	EXIT_IOIO = 0x7b,
	EXIT_MSR = 0x7c,
	EXIT_TASK_SWITCH = 0x7d,
	EXIT_SHUTDOWN = 0x7f,
	EXIT_RDPMC = 0x6f,
	EXIT_VMRUN = 0x80,
	EXIT_VMMCALL = 0x81,
	EXIT_VMLOAD = 0x82,
	EXIT_VMSAVE = 0x83,
	EXIT_STGI = 0x84,
	EXIT_CLGI = 0x85,
	EXIT_SKINIT = 0x86,
	EXIT_WBINVD = 0x89,
	EXIT_MONITOR = 0x8a,
	EXIT_MWAIT = 0x8b,
	EXIT_XSETBV = 0x8d,
	EXIT_NPF = 0x400,
	EXIT_INVALID = 0xffffffff, // VMEXIT_INVALID (-1)
};

// IOIO EXITINFO1 (APM 15.10.2).
inline constexpr u64 IOIO_TYPE_IN = 1u << 0;
inline constexpr u64 IOIO_STR = 1u << 2;
inline constexpr u64 IOIO_REP = 1u << 3;
inline constexpr unsigned IOIO_SIZE_SHIFT = 4; // SZ8, SZ16, SZ32 one-hot in bits 6:4
inline constexpr unsigned IOIO_PORT_SHIFT = 16;

} // namespace dbgkvm::svm
