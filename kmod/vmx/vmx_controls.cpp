// SPDX-License-Identifier: GPL-2.0
// The VM-execution, VM-exit and VM-entry controls, built from the VMX capability MSRs
// (SDM Vol. 3, Appendix A; 25.6-25.8 for what each control does).
#include "dbgkvm_glue.h"
#include "rt/x86.hpp"
#include "vmx/vmcs_fields.hpp"
#include "vmx/vmx.hpp"

namespace dbgkvm::vmx
{

using namespace x86;

namespace
{
// IA32_VMX_EPT_VPID_CAP (Appendix A.10).
constexpr u64 EPT_WALK_4 = bit(6), EPT_WB = bit(14), EPT_INVEPT = bit(20),
	      EPT_INVEPT_SINGLE = bit(25), EPT_INVEPT_ALL = bit(26);

Caps g_caps;

// A control MSR says in its low half which bits must be 1 (allowed 0-settings) and in
// its high half which may be 1 (A.3-A.5). `want` bits are set where allowed; `need`
// bits must be allowed, else the control cannot be used.
bool adjust(u32 msr, u32 want, u32 need, u32 *out, const char *what)
{
	u64 v = 0;
	if (dk_rdmsr_safe(msr, &v))
		return false;
	u32 must = u32(v), may = u32(v >> 32);
	if (need & ~may) {
		dk_log_warn("VMX %s controls lack 0x%x: not supported\n", what, need & ~may);
		return false;
	}
	*out = (want & may) | must;
	return true;
}

bool cpu_has_vmx()
{
	u32 r[4];
	cpuid(1, 0, r);
	return r[2] & bit(5);
}
} // namespace

const Caps &caps()
{
	return g_caps;
}

Errno read_caps(Caps *out)
{
	if (!cpu_has_vmx())
		return -DK_ENODEV; // not an Intel CPU with VMX: quietly let another backend try
	Caps c{};
	u64 basic = 0;
	if (dk_rdmsr_safe(MSR_IA32_VMX_BASIC, &basic))
		return -DK_ENODEV;
	c.revision = u32(basic) & 0x7fffffff;
	// A VMCS region is at most 4 KiB (A.1); dbgkvm gives each one page.
	if (((basic >> 32) & 0x1fff) > DK_PAGE_SIZE) {
		dk_log_warn("VMX: VMCS region larger than a page\n");
		return -DK_ENODEV;
	}
	// Bit 55: the TRUE_* MSRs report which default-1 controls may in fact be 0 (A.2).
	const bool tru = basic & bit(55);

	bool ok = adjust(tru ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS,
			 PIN_EXT_INTR | PIN_NMI | PIN_PREEMPT_TIMER, PIN_EXT_INTR | PIN_NMI, &c.pin,
			 "pin-based");
	ok = ok && adjust(tru ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
			  PROC_TSC_OFFSET | PROC_HLT | PROC_MWAIT | PROC_RDPMC | PROC_CR8_LOAD |
			      PROC_CR8_STORE | PROC_MOV_DR | PROC_UNCOND_IO | PROC_MONITOR |
			      PROC_SECONDARY,
			  PROC_HLT | PROC_RDPMC | PROC_MOV_DR | PROC_UNCOND_IO | PROC_SECONDARY,
			  &c.proc, "processor-based");
	if (!ok)
		return -DK_ENODEV;
	// "Use MSR bitmaps" and "use I/O bitmaps" stay 0: every RDMSR/WRMSR exits (25.1.3)
	// and, with "unconditional I/O exiting", every IN/OUT/INS/OUTS.
	c.proc &= ~(u32(bit(28)) | u32(bit(25)));
	u64 p2 = 0;
	dk_rdmsr_safe(MSR_IA32_VMX_PROCBASED_CTLS2, &p2);
	if (!(p2 >> 32 & PROC2_UNRESTRICTED)) {
		dk_log_warn(
		    "VMX without unrestricted guest is not supported (real-mode guests need it)\n");
		return -DK_ENODEV;
	}
	if (!(p2 >> 32 & PROC2_EPT)) {
		dk_log_warn("VMX without EPT is not supported\n");
		return -DK_ENODEV;
	}
	if (!adjust(MSR_IA32_VMX_PROCBASED_CTLS2,
		    PROC2_EPT | PROC2_RDTSCP | PROC2_VPID | PROC2_WBINVD | PROC2_UNRESTRICTED,
		    PROC2_EPT | PROC2_UNRESTRICTED, &c.proc2, "secondary"))
		return -DK_ENODEV;
	c.vpid = c.proc2 & PROC2_VPID;

	if (!adjust(tru ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS,
		    EXIT_SAVE_DEBUG | EXIT_HOST_64 | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
			EXIT_SAVE_EFER | EXIT_LOAD_EFER,
		    EXIT_HOST_64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER, &c.exit, "VM-exit"))
		return -DK_ENODEV;
	c.exit &= ~u32(bit(15)); // "acknowledge interrupt on exit" 0: the IRQ stays pending
	u64 entry_msr = 0;
	dk_rdmsr_safe(tru ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS, &entry_msr);
	c.ia32e_entry_ok = entry_msr >> 32 & ENTRY_IA32E;
	if (!adjust(tru ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
		    ENTRY_LOAD_DEBUG | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER, ENTRY_LOAD_EFER, &c.entry,
		    "VM-entry"))
		return -DK_ENODEV;
	c.entry &= ~ENTRY_IA32E; // follows the guest's EFER.LMA (VmxVcpu::set_efer)
	c.load_pat =
	    (c.entry & ENTRY_LOAD_PAT) && (c.exit & EXIT_LOAD_PAT) && (c.exit & EXIT_SAVE_PAT);
	if (!c.load_pat) {
		c.entry &= ~ENTRY_LOAD_PAT;
		c.exit &= ~(EXIT_LOAD_PAT | EXIT_SAVE_PAT);
	}

	dk_rdmsr_safe(MSR_IA32_VMX_EPT_VPID_CAP, &c.ept_vpid);
	if ((c.ept_vpid & (EPT_WALK_4 | EPT_WB | EPT_INVEPT)) !=
		(EPT_WALK_4 | EPT_WB | EPT_INVEPT) ||
	    !(c.ept_vpid & (EPT_INVEPT_SINGLE | EPT_INVEPT_ALL))) {
		dk_log_warn("VMX: EPT lacks 4-level walks, write-back tables or INVEPT\n");
		return -DK_ENODEV;
	}
	c.invept_single = c.ept_vpid & EPT_INVEPT_SINGLE;

	// The VMX-preemption timer (25.5.1) ends the guest after at most ~2^22 TSC cycles
	// (IA32_VMX_MISC[4:0]: the timer counts every 2^rate cycles), a backstop in case a
	// host interrupt does not end the guest. Bochs 2.7 needs it: there a host timer
	// interrupt did not end a guest spinning with IF = 0 (host IF was 0 at VMLAUNCH
	// too), and the CPU stayed in the guest (kmod/vmx/README.md).
	if (c.pin & PIN_PREEMPT_TIMER) {
		u64 misc = 0;
		dk_rdmsr_safe(MSR_IA32_VMX_MISC, &misc);
		c.preempt_timer = u32((u64{1} << 22) >> (misc & 0x1f));
		if (!c.preempt_timer)
			c.pin &= ~PIN_PREEMPT_TIMER;
	}

	dk_rdmsr_safe(MSR_IA32_VMX_CR0_FIXED0, &c.cr0_fixed0);
	dk_rdmsr_safe(MSR_IA32_VMX_CR0_FIXED1, &c.cr0_fixed1);
	dk_rdmsr_safe(MSR_IA32_VMX_CR4_FIXED0, &c.cr4_fixed0);
	dk_rdmsr_safe(MSR_IA32_VMX_CR4_FIXED1, &c.cr4_fixed1);
	*out = c;
	g_caps = c;
	return 0;
}

} // namespace dbgkvm::vmx
