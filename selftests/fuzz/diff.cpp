// SPDX-License-Identifier: GPL-2.0
#include "diff.h"

#include "ctx.h"
#include "device.h"
#include "env.h"
#include "guest_run.h"
#include "options.h"
#include "stats.h"
#include "tap.h"
#include "validate.h"

#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace fz
{

namespace
{

/*
 * The allow-list: differences dbgkvm makes on purpose. A difference is allowed when the
 * call's label starts with `label`, dbgkvm's answer starts with `dbgkvm` and KVM's with
 * `kvm` ("" matches anything). One comment per entry says why.
 */
struct Allowed {
	const char *label;
	const char *dbgkvm;
	const char *kvm;
	const char *why;
};

const Allowed ALLOWED[] = {
    /* selftests/README, dev_test: POSIX's errno for an unknown command on every fd;
     * KVM's kvm_arch_dev_ioctl and kvm_arch_vcpu_ioctl default to EINVAL. */
    {"unknown ioctl on the system fd", "-1/ENOTTY", "-1/EINVAL",
     "unknown ioctl: dbgkvm ENOTTY on every fd, KVM EINVAL on the system and vCPU fds"},
    {"unknown ioctl on a vCPU fd", "-1/ENOTTY", "-1/EINVAL",
     "unknown ioctl: dbgkvm ENOTTY on every fd, KVM EINVAL on the system and vCPU fds"},
    {"VM/vCPU ioctl on the system fd", "-1/ENOTTY", "-1/EINVAL",
     "unknown ioctl: dbgkvm ENOTTY on every fd, KVM EINVAL on the system and vCPU fds"},
    {"system/VM ioctl on a vCPU fd", "-1/ENOTTY", "-1/EINVAL",
     "unknown ioctl: dbgkvm ENOTTY on every fd, KVM EINVAL on the system and vCPU fds"},
    /* README: the ioctls dbgkvm implements are the ones listed there; these read
     * state dbgkvm does not model (LAPIC and irqchip, dirty logging, Hyper-V CPUID,
     * machine checks, kvmclock, PIT, nested state, XSAVE2, address translation). */
    {"KVM_GET_", "-1/ENOTTY", "", "an ioctl dbgkvm does not implement"},
    {"KVM_TRANSLATE", "-1/ENOTTY", "", "an ioctl dbgkvm does not implement"},
    {"KVM_X86_GET_", "-1/ENOTTY", "", "an ioctl dbgkvm does not implement"},
    /* mmap: KVM maps lazily and its fault handler SIGBUSes pages it lacks; dbgkvm inserts
     * its two pages at mmap time and refuses a range beyond them. KVM's third page is the
     * coalesced-MMIO ring, which dbgkvm does not have. */
    {"mmap of a vCPU fd: more than run_size", "-1/EINVAL", "ok",
     "mmap beyond kvm_run + PIO page: dbgkvm refuses at mmap time"},
    {"mmap of a vCPU fd: page 64", "-1/EINVAL", "ok",
     "mmap beyond kvm_run + PIO page: dbgkvm refuses at mmap time"},
    /* device.cpp: only the default VM type. */
    {"CREATE_VM type", "-1/EINVAL", "ok", "VM types dbgkvm does not offer"},
    /* cr_rules.hpp/msr_rules.hpp: CR4 and EFER bits of features dbgkvm's guests lack
     * (KVM offers what KVM_GET_SUPPORTED_CPUID lists: XSAVE, PKE, nested SVM, ...). */
    {"SET_SREGS one low CR4 bit flipped", "-1/EINVAL", "ok",
     "a CR4 feature bit dbgkvm does not offer"},
    {"SET_SREGS one EFER bit flipped", "-1/EINVAL", "ok",
     "an EFER feature bit dbgkvm does not offer"},
    /* core/core_msrs.hpp: the index lists name the MSRs dbgkvm has, fewer than KVM's, so
     * a length between the two is E2BIG on KVM only. */
    {"GET_MSR_INDEX_LIST", "ok", "-1/E2BIG", "dbgkvm's MSR list is shorter than KVM's"},
    {"GET_MSR_FEATURE_INDEX_LIST", "ok", "-1/E2BIG",
     "dbgkvm's feature MSR list is shorter than KVM's"},
    /* README: dbgkvm's guests have no XSAVE, so XCR0 is x87 only; KVM takes what the
     * vCPU's CPUID offers. */
    {"SET_XCRS", "-1/EINVAL", "ok", "XCR0 beyond x87: dbgkvm's guests have no XSAVE"},
    /* core/vcpu_events.hpp: no interrupt, NMI or SMM to inject yet, and an error code
     * must fit its vector; KVM takes them. */
    {"SET_VCPU_EVENTS changed", "-1/EINVAL", "ok",
     "KVM_SET_VCPU_EVENTS: dbgkvm refuses interrupts, NMIs, SMM, misfit error codes"},
};

/* KVM_CHECK_EXTENSION: the limits README documents (NR_VCPUS, NR_MEMSLOTS, MAX_VCPUS,
 * MAX_VCPU_ID) and KVM_CAP_SET_GUEST_DEBUG2's flag mask may differ in value. */
const long LIMIT_CAPS[] = {9, 10, 66, 128, 195};

bool starts(const std::string &s, const char *p)
{
	return s.rfind(p, 0) == 0;
}

/* dbgkvm's KVM_CAP_SET_GUEST_DEBUG2 */
uint32_t dbgkvm_dbg_mask;

/* Why the difference is allowed, or nullptr. */
const char *classify(const TraceLine &a, const TraceLine &b)
{
	/* debugreg/guest_debug.cpp: flags KVM_CAP_SET_GUEST_DEBUG2 does not list are refused;
	 * x86 KVM ignores them (kvm_arch_vcpu_ioctl_set_guest_debug checks none), and goes on
	 * to its other answers (EBUSY for an injection while an exception is pending). */
	unsigned ctl;
	if (sscanf(a.label.c_str(), "SET_GUEST_DEBUG control 0x%x", &ctl) == 1 &&
	    (ctl & ~dbgkvm_dbg_mask) && a.value == "-1/EINVAL")
		return "KVM_SET_GUEST_DEBUG with flags KVM_CAP_SET_GUEST_DEBUG2 does not list: "
		       "dbgkvm EINVAL, KVM ignores them";
	/* Open gap (fuzz/README.md, "KVM_SET_REGS does not drop a queued injection"): KVM's
	 * KVM_SET_REGS drops an exception that KVM_SET_GUEST_DEBUG's INJECT_DB/INJECT_BP
	 * queued, dbgkvm keeps it, so a later injection is EBUSY on dbgkvm only. */
	if (sscanf(a.label.c_str(), "SET_GUEST_DEBUG control 0x%x", &ctl) == 1 &&
	    (ctl & (KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP)) && a.value == "-1/EBUSY" &&
	    starts(b.value, "ok"))
		return "open gap: KVM_SET_REGS drops a queued injection on KVM, not on dbgkvm";
	/* core/cpuid.cpp: no x2APIC without a local APIC, so IA32_APIC_BASE.EXTD (bit 10) is
	 * reserved on dbgkvm (kvm_set_apic_base's rule with the vCPU's CPUID). */
	unsigned long long apic_base;
	const size_t at = b.value.find("apic_base 0x");
	if (starts(a.label, "SET_SREGS") && a.value == "-1/EINVAL" && at != std::string::npos &&
	    sscanf(b.value.c_str() + at, "apic_base 0x%llx", &apic_base) == 1 &&
	    (apic_base & (1ull << 10)))
		return "IA32_APIC_BASE.EXTD: dbgkvm offers no x2APIC without a local APIC";
	/* CHECK_EXTENSION N: = V */
	long cap;
	if (sscanf(a.label.c_str(), "CHECK_EXTENSION %ld", &cap) == 1 ||
	    sscanf(a.label.c_str(), "CHECK_EXTENSION on the VM fd %ld", &cap) == 1) {
		long va = -1, vb = -1;
		sscanf(a.value.c_str(), "ok = %ld", &va);
		sscanf(b.value.c_str(), "ok = %ld", &vb);
		if (va == 0 && vb > 0)
			return "a capability dbgkvm does not implement";
		for (long c : LIMIT_CAPS)
			if (c == cap && va > 0 && vb > 0)
				return "a documented limit (README: NR_VCPUS, MAX_VCPUS, "
				       "MAX_VCPU_ID, "
				       "NR_MEMSLOTS) or KVM_CAP_SET_GUEST_DEBUG2's mask";
		return nullptr;
	}
	/* SET_USER_MEMORY_REGION: flags, ids dbgkvm does not have (32 slots, one address
	 * space), sizes beyond its 16 GiB a slot (MAX_SLOT_PAGES). dbgkvm refuses them first;
	 * KVM goes on to its other rules, whatever they answer. */
	unsigned slot, flags;
	unsigned long long gpa, size;
	if (sscanf(a.label.c_str(),
		   "SET_USER_MEMORY_REGION slot 0x%x flags 0x%x gpa 0x%llx size 0x%llx", &slot,
		   &flags, &gpa, &size) == 4 &&
	    a.value == "-1/EINVAL") {
		if (flags >= 1 && flags <= 3)
			return "no KVM_MEM_LOG_DIRTY_PAGES or KVM_MEM_READONLY slots";
		if (slot >> 16)
			return "no second (SMM) address space: KVM_CAP_MULTI_ADDRESS_SPACE";
		if ((slot & 0xffff) >= 32)
			return "KVM_CAP_NR_MEMSLOTS: 32 on dbgkvm";
		if (size > (1ull << 34))
			return "a slot is at most 16 GiB on dbgkvm (MAX_SLOT_PAGES)";
	}
	/* README: string I/O with its memory operand in MMIO is not emulated (KVM exits with
	 * KVM_EXIT_MMIO for it: OUTS's read before the I/O exit, INS's write after it);
	 * emulate/README.md: MMIO is emulated for the MOV subset. */
	if (starts(a.label, "exit ") && starts(a.value, "KVM_EXIT_INTERNAL_ERROR insn")) {
		std::istringstream in(a.value.substr(strlen("KVM_EXIT_INTERNAL_ERROR insn")));
		unsigned op = 0;
		while (in >> std::hex >> op) {
			const bool prefix = op == 0x66 || op == 0x67 || op == 0xf2 || op == 0xf3 ||
					    op == 0xf0 || op == 0x26 || op == 0x2e || op == 0x36 ||
					    op == 0x3e || op == 0x64 || op == 0x65 ||
					    (op >= 0x40 && op <= 0x4f); /* REX (64-bit mode) */
			if (!prefix)
				break;
		}
		if (op >= 0x6c && op <= 0x6f && starts(b.value, "KVM_EXIT_MMIO"))
			return "INS/OUTS on MMIO is not emulated (README)";
		if ((op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf))
			return "MMIO is emulated for the MOV subset, not string instructions "
			       "(kmod/emulate/README.md)";
		/* README: a MOV whose access crosses a page boundary into MMIO is refused;
		 * KVM exits with a fragment that starts or ends at a page boundary */
		unsigned long long gpa = 0;
		unsigned len = 0;
		const bool mov = (op >= 0x88 && op <= 0x8b) || (op >= 0xa0 && op <= 0xa3) ||
				 op == 0xc6 || op == 0xc7 || op == 0x0f;
		if (mov &&
		    (sscanf(b.value.c_str(), "KVM_EXIT_MMIO read 0x%llx len %u", &gpa, &len) == 2 ||
		     sscanf(b.value.c_str(), "KVM_EXIT_MMIO write 0x%llx len %u", &gpa, &len) ==
			 2) &&
		    (!(gpa & 0xfff) || !((gpa + len) & 0xfff)))
			return "an MMIO access crossing a page boundary is not emulated (README)";
		return nullptr;
	}
	/* limits.hpp: KVM_CAP_MAX_VCPUS 8, checked before the id in use (as KVM does) */
	if (starts(a.label, "CREATE_VCPU ") && a.value == "-1/EINVAL" && b.value == "-1/EEXIST")
		return "KVM_CAP_MAX_VCPUS: 8 on dbgkvm";
	/* limits.hpp: ids 0..7 (KVM_CAP_MAX_VCPU_ID 8) */
	unsigned long id;
	if (sscanf(a.label.c_str(), "CREATE_VCPU %lu", &id) == 1 && id >= 8 &&
	    a.value == "-1/EINVAL" && starts(b.value, "ok"))
		return "KVM_CAP_MAX_VCPU_ID: 8 on dbgkvm";
	for (const Allowed &e : ALLOWED)
		if (starts(a.label, e.label) && starts(a.value, e.dbgkvm) && starts(b.value, e.kvm))
			return e.why;
	return nullptr;
}

std::string category(const std::string &label)
{
	return label.substr(0, label.find(' '));
}

struct Tally {
	std::map<std::string, unsigned> allowed;
	std::vector<std::string> failures;
	uint64_t compared = 0;
};

/*
 * Compares the two traces of one iteration. After a difference, the later calls of the
 * same kind (the first word of the label) no longer start from the same state: they
 * are not compared in this iteration.
 */
void compare(const Trace &a, const Trace &b, const std::string &where, Tally &t)
{
	std::set<std::string> diverged;
	const size_t n = std::min(a.size(), b.size());
	for (size_t i = 0; i < n; i++) {
		if (a[i].label != b[i].label) {
			/* Until the first difference the streams are the same calls; after one, a
			 * call may take another path (a vCPU that exists on one device only). */
			if (diverged.empty())
				t.failures.push_back(tap::format(
				    "%s: call %zu differs: '%s' vs '%s' (the streams lost step)",
				    where.c_str(), i, a[i].label.c_str(), b[i].label.c_str()));
			return;
		}
		const std::string cat = category(a[i].label);
		if (diverged.count(cat))
			continue;
		t.compared++;
		if (a[i].value == b[i].value)
			continue;
		diverged.insert(cat);
		if (const char *why = classify(a[i], b[i])) {
			t.allowed[why]++;
			continue;
		}
		t.failures.push_back(tap::format("%s: call %zu '%s': dbgkvm %s, KVM %s (%s / %s)",
						 where.c_str(), i, a[i].label.c_str(),
						 a[i].value.c_str(), b[i].value.c_str(),
						 a[i].info.c_str(), b[i].info.c_str()));
	}
	if (a.size() != b.size() && diverged.empty())
		t.failures.push_back(tap::format("%s: %zu calls on dbgkvm, %zu on KVM",
						 where.c_str(), a.size(), b.size()));
}

/* Debian's KVM modules (DBGKVM_KVM_MODULES, in load order), loaded for the comparison. */
struct KvmModules {
	std::vector<std::string> loaded;
	void load()
	{
		const char *e = getenv("DBGKVM_KVM_MODULES");
		std::istringstream in(e ? e : "");
		utsname u;
		uname(&u);
		int maj = 0, min = 0;
		sscanf(u.release, "%d.%d", &maj, &min);
		for (std::string p; in >> p;) {
			std::string name = p.substr(p.rfind('/') + 1);
			name = name.substr(0, name.find('.'));
			for (char &ch : name)
				if (ch == '-')
					ch = '_';
			/* 6.12's kvm.ko takes SVM/VMX at load time unless told not to */
			const std::string params =
			    name == "kvm" && (maj > 6 || (maj == 6 && min >= 12))
				? "enable_virt_at_load=0"
				: "";
			int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
			CHECK_MSG(fd >= 0, "open %s: %s", p.c_str(), strerror(errno));
			const long r = syscall(SYS_finit_module, fd, params.c_str(), 0);
			const int err = errno;
			close(fd);
			if (r != 0 && err == EEXIST)
				continue; /* already loaded */
			CHECK_MSG(r == 0, "load %s: %s", name.c_str(), strerror(err));
			loaded.push_back(name);
		}
	}
	~KvmModules()
	{
		for (auto it = loaded.rbegin(); it != loaded.rend(); ++it)
			syscall(SYS_delete_module, it->c_str(), O_NONBLOCK);
	}
};

bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

} // namespace

void compare_test(unsigned test)
{
	KvmModules mods;
	if (kt::is_kvm() && !exists("/dev/dbgkvm"))
		SKIP("the differential test needs /dev/dbgkvm next to /dev/kvm (run it with "
		     "TARGET=dbgkvm)");
	if (!exists("/dev/kvm")) {
		if (!getenv("DBGKVM_KVM_MODULES") || !*getenv("DBGKVM_KVM_MODULES"))
			SKIP("no /dev/kvm and no KVM modules to load (DBGKVM_KVM_MODULES)");
		mods.load();
	}
	Device dbg("/dev/dbgkvm", false);
	Device kvm("/dev/kvm", true);
	dbgkvm_dbg_mask = dbg.dbg_mask;
	Tally t;
	Quota q;
	q.iterations = 40;
	run_iterations(test, "compare", q, [&](Ctx &c, uint64_t iter) {
		const uint64_t seed = c.rng.next();
		{
			Trace a, b;
			Ctx ca(seed), cb(seed);
			validation_iteration(ca, dbg, &a);
			validation_iteration(cb, kvm, &b);
			compare(a, b,
				tap::format("iteration %llu validation", (unsigned long long)iter),
				t);
		}
		for (kt::Mode m : {kt::Mode::Real, kt::Mode::Prot32, kt::Mode::Long64}) {
			GuestTrace ga, gb;
			GuestOptions o;
			o.mode = m;
			o.deterministic = true;
			o.max_runs = 24;
			Ctx ca(seed + 1 + uint64_t(m)), cb(seed + 1 + uint64_t(m));
			guest_iteration(ca, dbg, o, &ga);
			guest_iteration(cb, kvm, o, &gb);
			Trace a, b;
			for (size_t i = 0; i < ga.lines.size(); i++)
				a.push_back(TraceLine{tap::format("exit %zu", i), ga.lines[i], ""});
			for (size_t i = 0; i < gb.lines.size(); i++)
				b.push_back(TraceLine{tap::format("exit %zu", i), gb.lines[i], ""});
			compare(a, b,
				tap::format("iteration %llu guest in %s", (unsigned long long)iter,
					    kt::mode_name(m)),
				t);
		}
	});
	tap::diag("compare: %llu calls compared, %zu differences outside the allow-list",
		  (unsigned long long)t.compared, t.failures.size());
	for (const auto &[why, n] : t.allowed)
		tap::diag("compare: allowed %u x: %s", n, why.c_str());
	if (!t.failures.empty()) {
		std::string s;
		for (size_t i = 0; i < t.failures.size() && i < 12; i++)
			s += "\n" + t.failures[i];
		FAIL("%zu differences between dbgkvm and KVM outside the allow-list (seed 0x%llx, "
		     "replay an iteration with --iter N --single compare):%s",
		     t.failures.size(), (unsigned long long)options().seed, s.c_str());
	}
}

} // namespace fz
