// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_test: a guest that reaches for host state it must never touch, against
 * dbgkvm and, side by side, Linux's KVM (issue 8, host isolation).
 *
 *  - CR4: every bit the guest's CPUID does not offer raises #GP, as in KVM
 *    (kvm_is_valid_cr4). CR4.PKE is the dangerous one: with it, WRPKRU would change
 *    the PKRU of the VMM thread, which dbgkvm does not switch.
 *  - WRPKRU without CR4.PKE: #UD.
 *  - RDPMC: #GP (no virtual PMU), never the host's counters.
 *  - XSETBV: #UD (no CR4.OSXSAVE).
 *  - A split lock at CPL 0 completes; a misaligned load at CPL 3 with CR0.AM and
 *    RFLAGS.AC is the guest's own #AC (a host's split-lock #AC never reaches it).
 *  - WBINVD/WBNOINVD run on; a guest breakpoint left armed at the exit never fires in
 *    the VMM.
 *  - WRMSR of hostile values to the MSRs the host keeps for itself (STAR, LSTAR,
 *    SFMASK, KERNEL_GS_BASE, PAT, EFER, TSC_AUX, DEBUGCTL, SPEC_CTRL...): as root,
 *    every CPU's values, read through /dev/cpu/N/msr, are the host's afterwards.
 * After each KVM_RUN the VMM checks that its own PKRU and XCR0 are what they were.
 */
#include "debug.h"
#include "env.h"
#include "guest.h"
#include "host_msr.h"
#include "kvm.h"
#include "sys.h"
#include "tap.h"

#include <cpuid.h>
#include <csetjmp>
#include <cerrno>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

using namespace kt;

GUEST_DECLARE(guest_hostile);
GUEST_LABEL_DECLARE(hz_cr4);
GUEST_LABEL_DECLARE(hz_cr4_insn);
GUEST_LABEL_DECLARE(hz_wrpkru);
GUEST_LABEL_DECLARE(hz_wrpkru_insn);
GUEST_LABEL_DECLARE(hz_rdpmc);
GUEST_LABEL_DECLARE(hz_rdpmc_insn);
GUEST_LABEL_DECLARE(hz_xsetbv);
GUEST_LABEL_DECLARE(hz_xsetbv_insn);
GUEST_LABEL_DECLARE(hz_pke_wrpkru);
GUEST_LABEL_DECLARE(hz_pke_insn);
GUEST_LABEL_DECLARE(hz_tscaux);
GUEST_LABEL_DECLARE(hz_sse);
GUEST_LABEL_DECLARE(hz_rdtscp_insn);
GUEST_LABEL_DECLARE(hz_rdpid_insn);
GUEST_LABEL_DECLARE(hz_split_lock);
GUEST_LABEL_DECLARE(hz_user_ac);
GUEST_LABEL_DECLARE(hz_user_ac_insn);
GUEST_LABEL_DECLARE(hz_user_ac_out);
GUEST_LABEL_DECLARE(hz_wbinvd);
GUEST_LABEL_DECLARE(hz_dr7);
GUEST_LABEL_DECLARE(hz_wrmsr);

#define GPA(label) GUEST_GPA(guest_hostile, label)

namespace
{

bool host_has(unsigned leaf, unsigned reg, unsigned bit)
{
	unsigned r[4] = {};
	if (!__get_cpuid_count(leaf, 0, &r[0], &r[1], &r[2], &r[3]))
		return false;
	return r[reg] & (1u << bit);
}

// The VMM thread's PKRU (CPUID.7.0:ECX.OSPKE) and XCR0 (CPUID.1:ECX.OSXSAVE), or 0.
uint32_t host_pkru()
{
	if (!host_has(7, 2, 4))
		return 0;
	uint32_t eax, edx;
	asm volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0)); // RDPKRU
	return eax;
}

uint64_t host_xcr0()
{
	if (!host_has(1, 2, 27))
		return 0;
	uint32_t eax, edx;
	asm volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
	return (uint64_t(edx) << 32) | eax;
}

struct HostState {
	uint32_t pkru = host_pkru();
	uint64_t xcr0 = host_xcr0();
};

void check_host(const HostState &before, const char *what)
{
	HostState now;
	CHECK_MSG(now.pkru == before.pkru, "%s: the VMM's PKRU changed: %#x -> %#x", what,
		  before.pkru, now.pkru);
	CHECK_MSG(now.xcr0 == before.xcr0, "%s: the VMM's XCR0 changed: %#llx -> %#llx", what,
		  (unsigned long long)before.xcr0, (unsigned long long)now.xcr0);
}

// Runs the case at `start` with DBG_PARAM = param and returns the handler's log; the
// VMM's own PKRU and XCR0 must be untouched.
std::vector<LogEntry> run_case(DebugGuest &g, uint64_t start, uint64_t param, const char *what)
{
	g.start_at(start);
	g.set_param(0, param);
	HostState before;
	g.run_to_halt();
	check_host(before, what);
	return g.log();
}

bool one_fault(const std::vector<LogEntry> &log, uint64_t vector, uint64_t insn)
{
	return log.size() == 1 && log[0].vector == vector && log[0].rip == insn;
}

// Exactly one exception, `vector` at `insn`.
void expect_fault(uint64_t start, uint64_t insn, uint64_t param, uint64_t vector, const char *what)
{
	DebugGuest g(GUEST(guest_hostile));
	auto log = run_case(g, start, param, what);
	CHECK_MSG(one_fault(log, vector, insn), "%s: expected one exception %llu at %s; %s", what,
		  (unsigned long long)vector, hex(insn).c_str(), g.describe_log().c_str());
}

// One KVM_RUN by a raw SYSCALL, with the VMM's XMM15 = mine around it: no library code
// runs between setting the register and reading it back. Returns XMM15 afterwards.
uint64_t kvm_run_with_xmm15(int vcpu_fd, uint64_t mine, long *ret)
{
	uint64_t after;
	long r;
	asm volatile("movq %[mine], %%xmm15\n\t"
		     "syscall\n\t"
		     "movq %%xmm15, %[after]"
		     : [after] "=r"(after), "=a"(r)
		     : [mine] "r"(mine), "a"(long(SYS_ioctl)), "D"(long(vcpu_fd)),
		       "S"(long(KVM_RUN)), "d"(0L)
		     : "rcx", "r11", "xmm15", "memory");
	*ret = r;
	return after;
}

} // namespace

TEST(cr4_bits_not_offered_raise_gp)
{
	// PKE, PCIDE, OSXSAVE, VMXE, SMXE, UMIP, LA57, CET, PKS and reserved bits.
	const struct {
		unsigned bit;
		const char *name;
	} bits[] = {{22, "PKE"},  {17, "PCIDE"},  {18, "OSXSAVE"}, {13, "VMXE"},  {14, "SMXE"},
		    {11, "UMIP"}, {12, "LA57"},	  {23, "CET"},	   {24, "PKS"},	  {15, "bit 15"},
		    {19, "KL"},	  {31, "bit 31"}, {32, "bit 32"},  {63, "bit 63"}};
	for (const auto &b : bits) {
		std::string what = std::string("MOV to CR4 setting ") + b.name;
		DebugGuest g(GUEST(guest_hostile));
		auto log = run_case(g, GPA(hz_cr4), 1ull << b.bit, what.c_str());
		if (is_kvm() && log.empty()) {
			// Without KVM_SET_CPUID2, KVM's CR4 reserved bits come from the host's
			// capabilities alone (cr4_guest_rsvd_bits is computed from the CPUID
			// table): it accepts what the host has, and switches PKRU/XCR0 itself.
			tap::diag(
			    "TARGET=kvm: CR4.%s accepted (KVM without KVM_SET_CPUID2, on QEMU)",
			    b.name);
			continue;
		}
		CHECK_MSG(one_fault(log, GP_VECTOR, GPA(hz_cr4_insn)), "%s: expected #GP at %s; %s",
			  what.c_str(), hex(GPA(hz_cr4_insn)).c_str(), g.describe_log().c_str());
	}
}

TEST(cr4_bits_offered_are_accepted)
{
	// PGE and OSFXSR are offered (and DE): the write takes, and reads back.
	for (unsigned bit : {7u, 9u, 3u}) {
		DebugGuest g(GUEST(guest_hostile));
		g.start_at(GPA(hz_cr4));
		g.set_param(0, 1ull << bit);
		g.run_to_halt();
		CHECK_MSG(g.count() == 0, "CR4 bit %u: %s", bit, g.describe_log().c_str());
		CHECK_MSG(g.out(0) & (1ull << bit), "CR4 bit %u did not read back: %s", bit,
			  hex(g.out(0)).c_str());
	}
}

// CR4's CPUID-dependent bits (KVM's __cr4_reserved_bits): with FSGSBASE, SMEP or SMAP
// taken out of the vCPU's CPUID, KVM_SET_SREGS refuses the bit (EINVAL) and the guest's
// MOV to CR4 raises #GP; with the supported table, both take it. The guest sets FSGSBASE
// only: SMEP and SMAP would fault its own next fetch or store.
TEST(cr4_bits_follow_the_vcpus_cpuid)
{
	const struct {
		unsigned ebx_bit; // CPUID.7.0:EBX
		uint64_t cr4;
		const char *name;
	} bits[] = {{0, 1ull << 16, "FSGSBASE"}, {7, 1ull << 20, "SMEP"}, {20, 1ull << 21, "SMAP"}};
	for (const auto &b : bits) {
		const bool guest_sets = b.ebx_bit == 0;
		DebugGuest g(GUEST(guest_hostile));
		Cpuid c(g.vm.dev_fd());
		kvm_cpuid_entry2 *seven = c.find(7);
		const bool supported = seven && (seven->ebx & (1u << b.ebx_bit));
		if (seven)
			seven->ebx &= ~(1u << b.ebx_bit);
		c.set_on(g.vcpu);
		kvm_sregs s = g.vcpu.sregs();
		s.cr4 |= b.cr4;
		errno = 0;
		CHECK_MSG(ioctl(g.vcpu.fd(), KVM_SET_SREGS, &s) == -1 && errno == EINVAL,
			  "KVM_SET_SREGS with CR4.%s, not in CPUID: %s", b.name,
			  tap::errno_name(errno).c_str());
		if (guest_sets) {
			std::string what = std::string("MOV to CR4 setting ") + b.name;
			auto log = run_case(g, GPA(hz_cr4), b.cr4, what.c_str());
			CHECK_MSG(one_fault(log, GP_VECTOR, GPA(hz_cr4_insn)),
				  "%s without it in CPUID: expected #GP; %s", what.c_str(),
				  g.describe_log().c_str());
		}
		if (!supported) {
			tap::diag("CR4.%s: not in the supported CPUID; refused without it, as it "
				  "must be, and there is no table that offers it",
				  b.name);
			continue;
		}
		DebugGuest h(GUEST(guest_hostile)); // the supported table
		s = h.vcpu.sregs();
		const kvm_sregs before = s;
		s.cr4 |= b.cr4;
		h.vcpu.set_sregs(s);
		CHECK_MSG(h.vcpu.sregs().cr4 & b.cr4, "CR4.%s did not read back", b.name);
		if (guest_sets) {
			h.vcpu.set_sregs(before);
			run_case(h, GPA(hz_cr4), b.cr4, "MOV to CR4 setting FSGSBASE, in CPUID");
			CHECK_MSG(h.count() == 0 && (h.out(0) & b.cr4), "CR4.%s: %s, read %s",
				  b.name, h.describe_log().c_str(), hex(h.out(0)).c_str());
		}
	}
}

// The attack itself: CR4.PKE, then WRPKRU. dbgkvm refuses CR4.PKE; KVM (without
// KVM_SET_CPUID2, on a host with PKU) lets the guest have it and switches PKRU. Either
// way the VMM's PKRU is untouched (run_case checks it).
TEST(guest_wrpkru_never_reaches_the_vmm)
{
	DebugGuest g(GUEST(guest_hostile));
	auto log = run_case(g, GPA(hz_pke_wrpkru), 0x55555554, "CR4.PKE + WRPKRU");
	if (one_fault(log, GP_VECTOR, GPA(hz_pke_insn)))
		return; // refused: the guest never had PKE
	CHECK_MSG(is_kvm() && log.empty(), "CR4.PKE + WRPKRU: %s", g.describe_log().c_str());
	CHECK_MSG(g.out(1) == 1 && g.out(0) == 0x55555554, "the guest's own PKRU: RDPKRU read %s",
		  hex(g.out(0)).c_str());
	tap::diag("TARGET=kvm: the guest had CR4.PKE and its own PKRU; the VMM's is intact");
}

TEST(wrpkru_without_pke_is_ud)
{
	expect_fault(GPA(hz_wrpkru), GPA(hz_wrpkru_insn), 0x55555554, UD_VECTOR,
		     "WRPKRU with CR4.PKE clear");
}

TEST(rdpmc_is_gp)
{
	for (uint64_t counter : {0ull, 1ull, 1ull << 30}) { // general, fixed
		DebugGuest g(GUEST(guest_hostile));
		auto log = run_case(g, GPA(hz_rdpmc), counter, "RDPMC");
		if (is_kvm() && log.empty()) {
			// KVM's virtual PMU answered (on AMD, 6.1 always has four legacy
			// counters): an unprogrammed virtual counter reads 0, a host one would not.
			CHECK_MSG(g.out(0) == 0 && g.out(1) == 0, "RDPMC %#llx read %s:%s",
				  (unsigned long long)counter, hex(g.out(1)).c_str(),
				  hex(g.out(0)).c_str());
			tap::diag("TARGET=kvm: RDPMC %#llx answered by KVM's virtual PMU (0)",
				  (unsigned long long)counter);
			continue;
		}
		CHECK_MSG(one_fault(log, GP_VECTOR, GPA(hz_rdpmc_insn)),
			  "RDPMC %#llx: expected #GP; %s", (unsigned long long)counter,
			  g.describe_log().c_str());
	}
}

TEST(xsetbv_is_ud)
{
	DebugGuest g(GUEST(guest_hostile));
	auto log = run_case(g, GPA(hz_xsetbv), 7, "XSETBV");
	if (is_kvm() && one_fault(log, GP_VECTOR, GPA(hz_xsetbv_insn))) {
		// CR4.OSXSAVE = 0 makes XSETBV #UD before any intercept on hardware; QEMU's
		// SVM checks the intercept first, and KVM then fails the XCR0 write (#GP).
		tap::diag("TARGET=kvm: #GP (QEMU takes the XSETBV intercept before the #UD check)");
		return;
	}
	CHECK_MSG(one_fault(log, UD_VECTOR, GPA(hz_xsetbv_insn)), "XSETBV: expected #UD; %s",
		  g.describe_log().c_str());
}

// IA32_TSC_AUX: on CPU 1 the host's is 1 (Linux: CPU | node << 12). The guest reads its
// own (0), or gets #UD where RDTSCP/RDPID is not offered; never the host's.
TEST(tsc_aux_is_the_guests)
{
	CHECK_MSG(pin_to_cpu(1), "this test needs CPU 1 (the test machines have two)");
	DebugGuest g(GUEST(guest_hostile));
	auto log = run_case(g, GPA(hz_tscaux), 0, "RDTSCP/RDPID");
	const uint64_t insn[2] = {GPA(hz_rdtscp_insn), GPA(hz_rdpid_insn)};
	const char *name[2] = {"RDTSCP", "RDPID"};
	for (int i = 0; i < 2; i++) {
		const uint64_t v = g.out(i);
		if (v == ~0ull) {
			bool ud = false;
			for (const LogEntry &e : log)
				ud |= e.vector == UD_VECTOR && e.rip == insn[i];
			CHECK_MSG(ud, "%s neither ran nor raised #UD; %s", name[i],
				  g.describe_log().c_str());
			tap::diag("%s: #UD (not offered)", name[i]);
			continue;
		}
		CHECK_MSG(v == 0, "%s read TSC_AUX %s in the guest (the host's on CPU 1 is 1)",
			  name[i], hex(v).c_str());
	}
	unpin();
}

// The FPU/SSE state is the guest's inside and the VMM's outside (the guest FPU is swapped
// once per KVM_RUN): the VMM's XMM15 survives a KVM_RUN in which the guest loads its own,
// and the guest's survives an exit to user space in which the VMM uses XMM15.
TEST(fpu_state_is_the_guests_inside_and_the_vmms_outside)
{
	constexpr uint64_t GUEST_PAT = 0x6765737430303031, VMM1 = 0x766d6d3130303031,
			   VMM2 = 0x766d6d3230303032;
	DebugGuest g(GUEST(guest_hostile));
	g.start_at(GPA(hz_sse));
	g.set_param(0, GUEST_PAT);
	long r;
	uint64_t vmm = kvm_run_with_xmm15(g.vcpu.fd(), VMM1, &r);
	CHECK_MSG(r == 0 && g.vcpu.run()->exit_reason == KVM_EXIT_IO,
		  "KVM_RUN returned %ld, exit reason %u (expected the OUT)", r,
		  g.vcpu.run()->exit_reason);
	CHECK_MSG(vmm == VMM1, "the VMM's XMM15 changed across KVM_RUN: %s", hex(vmm).c_str());
	vmm = kvm_run_with_xmm15(g.vcpu.fd(), VMM2, &r);
	CHECK_MSG(r == 0 && g.vcpu.run()->exit_reason == KVM_EXIT_HLT,
		  "KVM_RUN returned %ld, exit reason %u (expected HLT)", r,
		  g.vcpu.run()->exit_reason);
	CHECK_MSG(vmm == VMM2, "the VMM's XMM15 changed across KVM_RUN: %s", hex(vmm).c_str());
	CHECK_MSG(g.out(0) == GUEST_PAT, "the guest's XMM15 read %s after the exit, expected %s",
		  hex(g.out(0)).c_str(), hex(GUEST_PAT).c_str());
	CHECK_MSG(g.count() == 0, "%s", g.describe_log().c_str());
}

// A LOCK ADD across a cache line at CPL 0, with CR0.AM = 1 and RFLAGS.AC = 1: not an
// alignment check (that needs CPL 3, SDM Vol. 3, 6.15), so the guest sees no #AC. Where
// the host has split-lock detection, the #AC it raises is the host's to handle (KVM's
// handle_guest_split_lock): the emulators have none, so here the instruction just runs.
TEST(split_lock_at_cpl0_completes)
{
	constexpr uint64_t V = 0x1122334455667788;
	DebugGuest g(GUEST(guest_hostile));
	run_case(g, GPA(hz_split_lock), V, "split lock");
	CHECK_MSG(g.count() == 0, "split lock: the guest took an exception; %s",
		  g.describe_log().c_str());
	CHECK_MSG(g.out(0) == V + 1, "split lock: LOCK ADD gave %s, expected %s",
		  hex(g.out(0)).c_str(), hex(V + 1).c_str());
}

namespace
{
sigjmp_buf ac_jmp;
void on_sigbus(int)
{
	siglongjmp(ac_jmp, 1);
}

// Does this CPU (the emulator) check alignment? A misaligned load in the VMM itself, at
// CPL 3 with RFLAGS.AC (Linux runs with CR0.AM = 1): SIGBUS if it does.
bool cpu_checks_alignment()
{
	struct sigaction sa = {}, old = {};
	sa.sa_handler = on_sigbus;
	sigaction(SIGBUS, &sa, &old);
	alignas(8) static volatile char buf[16];
	bool checked = false;
	if (sigsetjmp(ac_jmp, 1) == 0) {
		asm volatile("add $-128, %%rsp\n\t" // past the red zone
			     "pushf\n\t"
			     "orl $0x40000, (%%rsp)\n\t"
			     "popf\n\t"
			     "movl 1(%0), %%eax\n\t"
			     "pushf\n\t"
			     "andl $~0x40000, (%%rsp)\n\t"
			     "popf\n\t"
			     "sub $-128, %%rsp"
			     :
			     : "r"(buf)
			     : "rax", "memory", "cc");
	} else {
		checked = true;
		asm volatile("pushf\n\t"
			     "andl $~0x40000, (%%rsp)\n\t"
			     "popf" ::
				 : "memory", "cc");
	}
	sigaction(SIGBUS, &old, nullptr);
	return checked;
}
} // namespace

// The guest's own alignment check: CPL 3, CR0.AM = 1, RFLAGS.AC = 1, a misaligned load.
// It is the guest's #AC (vector 17, error code 0) whatever the host's split-lock
// detection, and its handler sees it.
TEST(alignment_check_at_cpl3_is_the_guests)
{
	const bool checks = cpu_checks_alignment();
	DebugGuest g(GUEST(guest_hostile));
	auto log = run_case(g, GPA(hz_user_ac), 0, "#AC at CPL 3");
	if (!checks) {
		// The CPU model has no alignment check (QEMU TCG): the load runs and the
		// OUT after it #GPs at CPL 3.
		CHECK_MSG(one_fault(log, GP_VECTOR, GPA(hz_user_ac_out)),
			  "expected the #GP of OUT at CPL 3; %s", g.describe_log().c_str());
		SKIP("this CPU does not check alignment (no SIGBUS for the VMM either)");
	}
	CHECK_MSG(log.size() == 1 && log[0].vector == 17 && log[0].rip == GPA(hz_user_ac_insn) &&
		      log[0].dr6_or_err == 0,
		  "expected one #AC(0) at %s; %s", hex(GPA(hz_user_ac_insn)).c_str(),
		  g.describe_log().c_str());
}

TEST(wbinvd_runs_on)
{
	DebugGuest g(GUEST(guest_hostile));
	run_case(g, GPA(hz_wbinvd), 0, "WBINVD/WBNOINVD");
	CHECK_MSG(g.count() == 0 && g.out(0) == 1, "WBINVD/WBNOINVD: out %s; %s",
		  hex(g.out(0)).c_str(), g.describe_log().c_str());
}

namespace
{
volatile sig_atomic_t traps;
void on_sigtrap(int)
{
	traps = traps + 1;
}
} // namespace

// The guest leaves DR0 = an address of the VMM's and DR7 armed for writes to it when it
// exits: the VMM then writes there, and no #DB (SIGTRAP) may reach it. The host's DR7
// itself cannot be read from user space (ptrace shows the thread's virtual DR7, not the
// hardware's), so the breakpoint firing or not is the check.
TEST(guest_dr7_left_armed_never_fires_in_the_vmm)
{
	alignas(8) static volatile uint32_t target;
	struct sigaction sa = {}, old = {};
	sa.sa_handler = on_sigtrap;
	sigaction(SIGTRAP, &sa, &old);
	traps = 0;
	const uint64_t dr7 = DR7_FIXED_1 | dr7_l(0) | dr7_g(0) | dr7_rwlen(0, 1, 3);
	DebugGuest g(GUEST(guest_hostile));
	g.start_at(GPA(hz_dr7));
	g.set_param(0, reinterpret_cast<uint64_t>(&target));
	g.set_param(1, dr7);
	g.run_to_halt();
	kvm_debugregs d = get_debugregs(g.vcpu);
	for (int i = 0; i < 100; i++)
		target = target + 1;
	sigaction(SIGTRAP, &old, nullptr);
	CHECK_MSG(g.count() == 0, "%s", g.describe_log().c_str());
	CHECK_MSG(d.db[0] == reinterpret_cast<uint64_t>(&target) && (d.dr7 & 3) == 3,
		  "the guest's breakpoint was not armed: DR0 %s DR7 %s", hex(d.db[0]).c_str(),
		  hex(d.dr7).c_str());
	CHECK_MSG(traps == 0, "the guest's data breakpoint fired %d times in the VMM", int(traps));
}

namespace
{

struct HostMsr {
	uint32_t msr;
	const char *name;
	uint64_t hostile; // what the guest writes
};

// The MSRs the host keeps for itself while a guest runs (VMX keeps some in the VMCS,
// switches others by hand; SVM's VMRUN/VMSAVE/VMLOAD some, the rest by hand). The guest
// writes a hostile value to each; a write it may not do faults, which is fine.
constexpr HostMsr HOST_MSRS[] = {
    {0xc0000081, "STAR", 0x001b000800000000},
    {0xc0000082, "LSTAR", 0x00000000deadb000},
    {0xc0000083, "CSTAR", 0x00000000deadc000},
    {0xc0000084, "SFMASK", 0},
    {0xc0000102, "KERNEL_GS_BASE", 0x00004b4753424153},
    {0x277, "PAT", 0x0606060606060606},
    {0xc0000080, "EFER", 0x500}, // LME|LMA: no SCE (SYSCALL), no NXE
    {0xc0000103, "TSC_AUX", 0x5a5a},
    {0x1d9, "DEBUGCTL", 1}, // LBR
    {0x48, "SPEC_CTRL", 1}, // IBRS
    {0x174, "SYSENTER_CS", 0x8},
    {0x175, "SYSENTER_ESP", 0x5000},
    {0x176, "SYSENTER_EIP", 0x6000},
};
constexpr int N_MSRS = sizeof(HOST_MSRS) / sizeof(HOST_MSRS[0]);
constexpr uint32_t MSR_DEBUGCTL = 0x1d9, MSR_KERNEL_GS_BASE = 0xc0000102, MSR_TSC_AUX = 0xc0000103;

// Every CPU's values; present[c][i] false where the MSR faults (absent).
struct MsrSnapshot {
	std::vector<std::vector<uint64_t>> val;
	std::vector<std::vector<bool>> present;
};

// Read on `self`, the CPU this thread is pinned to, and on every other CPU. A value that
// belongs to the task on a CPU is compared only on `self`, where that task is this
// thread: KERNEL_GS_BASE holds the user GS base of the task last in user mode on a CPU
// (SWAPGS), so on another CPU it is whoever ran there. The rest are per CPU and fixed
// after boot (TSC_AUX = CPU | node << 12, SYSENTER_ESP = the CPU's entry stack), or the
// same everywhere (STAR, LSTAR, SFMASK, PAT, EFER, DEBUGCTL in the test machines;
// SPEC_CTRL is the base value plus the running task's SSBD/STIBP, which no task here
// changes).
MsrSnapshot snapshot(int self)
{
	MsrSnapshot s;
	const int n = host_cpus();
	s.val.assign(n, std::vector<uint64_t>(N_MSRS));
	s.present.assign(n, std::vector<bool>(N_MSRS));
	for (int c = 0; c < n; c++)
		for (int i = 0; i < N_MSRS; i++) {
			if (c != self && HOST_MSRS[i].msr == MSR_KERNEL_GS_BASE)
				continue;
			s.present[c][i] = read_host_msr(c, HOST_MSRS[i].msr, &s.val[c][i]);
		}
	return s;
}

} // namespace

// Guests write hostile values to the host's MSRs, on each CPU in turn (the vCPU pinned
// there); afterwards every CPU's values must be what they were. The test only reads
// host MSRs: a write through /dev/cpu/N/msr taints the kernel (S), and neither test
// machine keeps a nonzero DEBUGCTL anyway, so a lost host DEBUGCTL (0 after a VMX exit)
// cannot be seen here.
TEST(host_msrs_survive_hostile_wrmsr)
{
	if (geteuid() != 0 || !host_msr_available())
		SKIP("no /dev/cpu/0/msr (needs root and msr.ko)");
	const int n = host_cpus();
	std::string failures;
	for (int cpu = 0; cpu < n; cpu++) {
		if (!pin_to_cpu(cpu)) {
			failures += tap::format(" cannot run on CPU %d;", cpu);
			continue;
		}
		// The VM first: creating the first one turns virtualization on (EFER.SVME).
		DebugGuest g(GUEST(guest_hostile));
		MsrSnapshot before = snapshot(cpu);
		g.start_at(GPA(hz_wrmsr));
		g.set_param(0, N_MSRS);
		for (int i = 0; i < N_MSRS; i++) {
			g.set_param(1 + 2 * i, HOST_MSRS[i].msr);
			g.set_param(2 + 2 * i, HOST_MSRS[i].hostile);
		}
		HostState vmm;
		g.run_to_halt();
		check_host(vmm, "WRMSR");
		MsrSnapshot after = snapshot(cpu);
		std::string took;
		for (int i = 0; i < N_MSRS; i++)
			took += tap::format(" %s:%s", HOST_MSRS[i].name,
					    g.out(i) == 1   ? "ok"
					    : g.out(i) == 2 ? "#GP"
							    : "?");
		std::string host;
		for (int i = 0; i < N_MSRS; i++)
			host += before.present[cpu][i]
				    ? tap::format(" %s=%s", HOST_MSRS[i].name,
						  hex(before.val[cpu][i]).c_str())
				    : tap::format(" %s=absent", HOST_MSRS[i].name);
		tap::diag("vCPU on CPU %d; guest WRMSR:%s", cpu, took.c_str());
		tap::diag("CPU %d's own:%s", cpu, host.c_str());
		for (int c = 0; c < n; c++)
			for (int i = 0; i < N_MSRS; i++) {
				// Linux's TSC_AUX is the CPU number | node << 12
				// (vdso_encode_cpunode): a guest's value left behind by an earlier
				// test shows here too.
				if (HOST_MSRS[i].msr == MSR_TSC_AUX && after.present[c][i] &&
				    (after.val[c][i] & 0xfff) != uint64_t(c))
					failures +=
					    tap::format(" CPU %d's TSC_AUX %s is not Linux's;", c,
							hex(after.val[c][i]).c_str());
				if (!before.present[c][i] && !after.present[c][i])
					continue;
				if (before.present[c][i] == after.present[c][i] &&
				    before.val[c][i] == after.val[c][i])
					continue;
				failures +=
				    tap::format(" vCPU on CPU %d: CPU %d's %s %s -> %s;", cpu, c,
						HOST_MSRS[i].name, hex(before.val[c][i]).c_str(),
						hex(after.val[c][i]).c_str());
			}
	}
	unpin();
	CHECK_MSG(failures.empty(), "host MSRs changed:%s", failures.c_str());
}
