// SPDX-License-Identifier: GPL-2.0
#include "debug.h"

#include "guest_code.h"
#include "tap.h"

#include <cerrno>
#include <cstring>
#include <sys/ioctl.h>

GUEST_DECLARE(dbg_rt);
GUEST_LABEL_DECLARE(dbg_rt_stubs);

/* The structs the library's ioctls carry (C layout: no flexible arrays here). */
static_assert(sizeof(kvm_guest_debug) == 72);
static_assert(sizeof(kvm_debugregs) == 128);
static_assert(KVM_SET_GUEST_DEBUG == 0x4048ae9b);
static_assert(KVM_GET_DEBUGREGS == 0x8080aea1 && KVM_SET_DEBUGREGS == 0x4080aea2);

namespace kt
{

std::string hex(uint64_t v)
{
	return tap::format("0x%llx", (unsigned long long)v);
}

int set_guest_debug(Vcpu &v, uint32_t control, const uint64_t *debugreg)
{
	kvm_guest_debug d = {};
	d.control = control;
	if (debugreg)
		for (int i = 0; i < 8; i++)
			d.arch.debugreg[i] = debugreg[i];
	return ioctl(v.fd(), KVM_SET_GUEST_DEBUG, &d) < 0 ? -errno : 0;
}

void xset_guest_debug(Vcpu &v, uint32_t control, const uint64_t *debugreg)
{
	int r = set_guest_debug(v, control, debugreg);
	if (r)
		FAIL("KVM_SET_GUEST_DEBUG control 0x%x: %s", control, tap::errno_name(-r).c_str());
}

void set_hw_bp(Vcpu &v, int n, uint64_t addr, uint64_t dr7, uint32_t extra)
{
	uint64_t dr[8] = {};
	dr[n] = addr;
	dr[7] = dr7;
	xset_guest_debug(v, GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP | extra, dr);
}

kvm_debugregs get_debugregs(Vcpu &v)
{
	kvm_debugregs d;
	memset(&d, 0xa5, sizeof(d));
	XIOCTL(v.fd(), KVM_GET_DEBUGREGS, &d);
	return d;
}

void set_debugregs(Vcpu &v, const kvm_debugregs &d)
{
	XIOCTL(v.fd(), KVM_SET_DEBUGREGS, &d);
}

std::string describe_debug(const kvm_run *r)
{
	return tap::format("exception %u pc 0x%llx dr6 0x%llx dr7 0x%llx", r->debug.arch.exception,
			   (unsigned long long)r->debug.arch.pc,
			   (unsigned long long)r->debug.arch.dr6,
			   (unsigned long long)r->debug.arch.dr7);
}

void expect_debug_exit(Vcpu &v, const char *what, uint32_t exception, uint64_t pc, int64_t dr6,
		       int64_t dr7)
{
	v.enter();
	const kvm_run *r = v.run();
	std::string want =
	    tap::format("KVM_EXIT_DEBUG exception %u pc 0x%llx", exception, (unsigned long long)pc);
	if (dr6 >= 0)
		want += tap::format(" dr6 0x%llx", (unsigned long long)dr6);
	if (dr7 >= 0)
		want += tap::format(" dr7 0x%llx", (unsigned long long)dr7);
	if (r->exit_reason != KVM_EXIT_DEBUG)
		FAIL("%s: expected %s, got %s", what, want.c_str(), v.describe_exit().c_str());
	if (r->debug.arch.exception != exception || r->debug.arch.pc != pc ||
	    (dr6 >= 0 && r->debug.arch.dr6 != (uint64_t)dr6) ||
	    (dr7 >= 0 && r->debug.arch.dr7 != (uint64_t)dr7))
		FAIL("%s: expected %s, got KVM_EXIT_DEBUG %s", what, want.c_str(),
		     describe_debug(r).c_str());
}

/* ---- the guest with an IDT ---- */

/* 64-bit interrupt gate (SDM Vol. 3A 6.14.1): type 0xE, present, DPL. */
static void write_gate(uint64_t *idt, int vec, uint64_t handler, int dpl)
{
	idt[2 * vec] = (handler & 0xffff) | ((uint64_t)SEL_CODE64 << 16) |
		       ((uint64_t)(0x8e | (dpl << 5)) << 40) | ((handler >> 16 & 0xffff) << 48);
	idt[2 * vec + 1] = handler >> 32;
}

void install_debug_runtime(Vm &vm, Vcpu &vcpu)
{
	GuestCode rt = GUEST(dbg_rt);
	vm.load(DBG_RT_GPA, rt);
	auto *idt = reinterpret_cast<uint64_t *>(vm.hva(IDT_GPA, 4096));
	memset(idt, 0, 4096);
	const uint64_t stubs = DBG_RT_GPA + (dbg_rt_stubs - dbg_rt);
	/* INT3 is allowed from ring 3 (DPL 3), like Linux's #BP gate. */
	for (int v = 0; v < 32; v++)
		write_gate(idt, v, stubs + 16 * v, v == BP_VECTOR ? 3 : 0);
	memset(vm.hva(DBG_DATA_GPA, 0x4000), 0, 0x4000);

	/*
	 * Ring 3: DPL-3 code and data descriptors and a 64-bit TSS after the
	 * library's GDT (SDM Vol. 3A 3.4.5, 7.2.3), RSP0 for exceptions from
	 * ring 3, and U/S in every paging level of the identity map.
	 */
	auto *gdt = reinterpret_cast<uint64_t *>(vm.hva(GDT_GPA, DBG_GDT_ENTRIES * 8));
	gdt[SEL_UCODE64 / 8] = 0x00affb000000ffffull;
	gdt[SEL_UDATA / 8] = 0x00cff3000000ffffull;
	const uint64_t tss = DBG_TSS_GPA, tss_limit = 0x67;
	gdt[SEL_TSS / 8] =
	    tss_limit | (tss & 0xffffff) << 16 | 0x8bull << 40 | (tss >> 24 & 0xff) << 56;
	gdt[SEL_TSS / 8 + 1] = tss >> 32;
	memset(vm.hva(DBG_TSS_GPA, 0x68), 0, 0x68);
	vm.at<uint64_t>(DBG_TSS_GPA + 4) = DBG_RING0_STACK_TOP; /* RSP0 */
	vm.at<uint16_t>(DBG_TSS_GPA + 0x66) = 0x68;		/* no I/O bitmap */
	auto *pml4 = reinterpret_cast<uint64_t *>(vm.hva(PML4_GPA, 4096));
	auto *pdpt = reinterpret_cast<uint64_t *>(vm.hva(PDPT_GPA, 4096));
	pml4[0] |= 4;
	for (int i = 0; i < PD_COUNT; i++) {
		pdpt[i] |= 4;
		auto *pd = reinterpret_cast<uint64_t *>(vm.hva(PD_GPA + 4096 * i, 4096));
		for (int j = 0; j < 512; j++)
			pd[j] |= 4;
	}

	kvm_sregs s = vcpu.sregs();
	s.idt.base = IDT_GPA;
	s.idt.limit = 32 * 16 - 1;
	s.gdt.limit = DBG_GDT_ENTRIES * 8 - 1;
	s.tr = {};
	s.tr.base = DBG_TSS_GPA;
	s.tr.limit = tss_limit;
	s.tr.selector = SEL_TSS;
	s.tr.type = 0xb; /* busy 64-bit TSS */
	s.tr.present = 1;
	vcpu.set_sregs(s);
}

DebugGuest::DebugGuest(GuestCode code) : vm(), vcpu(vm, 0)
{
	setup_guest(vm, vcpu, Mode::Long64, code);
	install_debug_runtime(vm, vcpu);
}

std::vector<LogEntry> DebugGuest::log()
{
	uint64_t n = count();
	if (n > DBG_LOG_MAX)
		n = DBG_LOG_MAX;
	std::vector<LogEntry> l(n);
	if (n)
		memcpy(l.data(), vm.hva(DBG_LOG, n * sizeof(LogEntry)), n * sizeof(LogEntry));
	return l;
}

std::string DebugGuest::describe_log(size_t max)
{
	std::string s =
	    tap::format("guest handler log (%llu exceptions):", (unsigned long long)count());
	auto l = log();
	if (l.size() > max) {
		l.resize(max);
		s += tap::format(" (first %zu)", max);
	}
	for (const LogEntry &e : l)
		s += tap::format(" {vector %llu rip 0x%llx %s 0x%llx dr7 0x%llx}",
				 (unsigned long long)e.vector, (unsigned long long)e.rip,
				 e.vector == DB_VECTOR ? "dr6" : "err",
				 (unsigned long long)e.dr6_or_err, (unsigned long long)e.dr7);
	return s;
}

void DebugGuest::clear_log()
{
	u64(DBG_COUNT) = 0;
	memset(vm.hva(DBG_LOG, DBG_LOG_MAX * DBG_LOG_ENTRY), 0, DBG_LOG_MAX * DBG_LOG_ENTRY);
}

void DebugGuest::start_at(uint64_t gpa)
{
	kvm_regs r = {};
	r.rip = gpa;
	r.rsp = STACK_TOP;
	r.rflags = 2;
	vcpu.set_regs(r);
}

void DebugGuest::fail_exit(const char *expected)
{
	const kvm_run *r = vcpu.run();
	std::string what = vcpu.describe_exit();
	if (r->exit_reason == KVM_EXIT_IO && r->io.port == PORT_UNEXPECTED &&
	    r->io.direction == KVM_EXIT_IO_OUT) {
		uint64_t vec = 0;
		memcpy(&vec, reinterpret_cast<const uint8_t *>(r) + r->io.data_offset, 4);
		uint64_t rip = 0;
		if (vcpu.enter() == KVM_EXIT_IO && r->io.port == PORT_UNEXPECTED)
			memcpy(&rip, reinterpret_cast<const uint8_t *>(r) + r->io.data_offset, 4);
		what =
		    tap::format("an unexpected exception in the guest: vector %llu at rip 0x%llx",
				(unsigned long long)vec, (unsigned long long)rip);
	} else if (r->exit_reason == KVM_EXIT_DEBUG) {
		what += " " + describe_debug(r);
	}
	FAIL("expected %s, got %s; %s", expected, what.c_str(), describe_log().c_str());
}

uint32_t DebugGuest::run_until_exit(std::vector<uint64_t> &reports, unsigned max_exits)
{
	uint32_t reason = vcpu.run_reports(reports, max_exits);
	const kvm_run *r = vcpu.run();
	if (reason == KVM_EXIT_IO && r->io.port == PORT_UNEXPECTED)
		fail_exit("no unexpected exception");
	return reason;
}

std::vector<uint64_t> DebugGuest::run_to_halt(unsigned max_exits)
{
	std::vector<uint64_t> reports;
	if (run_until_exit(reports, max_exits) != KVM_EXIT_HLT)
		fail_exit("KVM_EXIT_HLT");
	return reports;
}

} // namespace kt
