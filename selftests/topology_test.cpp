// SPDX-License-Identifier: GPL-2.0
/*
 * topology_test: the CPU topology a guest reads in CPUID is its own, the same on whichever
 * host CPU its vCPU runs.
 *
 * Two vCPUs (ids 0 and 1) of one VM run CPUID leaves 0, 1, 4, 0xB, 0x1A, 0x1F, 0x80000000,
 * 0x80000001, 0x80000008, 0x8000001D, 0x8000001E, 0x80000026 (several subleaves) and
 * leaves beyond any host's maximum: first vCPU 0 on host CPU 0 and vCPU 1 on CPU 1, then
 * swapped. The host's APIC IDs (leaf 1 EBX[31:24], 0xB/0x1F EDX, 0x8000001E EAX) differ
 * between its CPUs: a leaked one shows as an answer that changes with the host CPU.
 *
 * dbgkvm's own CPUID model, which a vCPU sees until user space gives it a table with
 * KVM_SET_CPUID2, gives every guest one package, one thread per core, each vCPU a core
 * whose APIC ID is its vCPU id (kmod/core/cpuid_topology.hpp); on dbgkvm the vCPUs get no
 * table, and the tests check those IDs and that the leaves agree on that topology. (With
 * a table, dbgkvm answers from it as KVM does: cpuid2_test.)
 *
 * Linux's KVM answers CPUID from the table the VMM gives each vCPU (KVM_SET_CPUID2; QEMU
 * writes its topology there, per vCPU). This library gives every vCPU the same table,
 * KVM_GET_SUPPORTED_CPUID unchanged (lib/kvm.cpp), where KVM has no topology: no level in
 * 0xB and 0x1F, 0x8000001E reads 0 ("Do not return host topology information",
 * arch/x86/kvm/cpuid.c). There, the tests check that the answers do not change with the host CPU
 * and that leaf 0xB holds no topology (the reason), and SKIP, saying so, the checks of dbgkvm's own
 * topology.
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "sys.h"
#include "tap.h"

#include <array>
#include <cstring>
#include <sched.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace kt;

GUEST_DECLARE(guest_cpuid_table);

namespace
{

struct Query {
	uint32_t leaf, subleaf;
};
using Regs = std::array<uint32_t, 4>;
enum {
	EAX,
	EBX,
	ECX,
	EDX
};

const std::vector<Query> &queries()
{
	static const std::vector<Query> q = [] {
		std::vector<Query> v = {{0, 0},		 {1, 0},	  {0x1a, 0},
					{0x80000000, 0}, {0x80000001, 0}, {0x80000008, 0},
					{0x8000001e, 0}, {0x3fffffff, 0}, {0x3fffffff, 1},
					{0x8fffffff, 0}};
		for (uint32_t s = 0; s < 5; s++)
			v.insert(v.end(), {{4, s}, {0x8000001d, s}});
		for (uint32_t s = 0; s < 4; s++)
			v.insert(v.end(), {{0xb, s}, {0x1f, s}, {0x80000026, s}});
		return v;
	}();
	return q;
}

constexpr uint64_t TABLE_GPA = DATA_GPA;
constexpr uint64_t ANSWERS_GPA = DATA_GPA + 0x1000;

using Answers = std::vector<Regs>; // one per query

struct Run {
	Answers on[2]; // [vCPU id]
};

void pin_to(int cpu)
{
	CHECK_MSG(pin_to_cpu(cpu), "sched_setaffinity(CPU %d): %s", cpu,
		  tap::errno_name(errno).c_str());
}

Answers run_queries(Vm &vm, Vcpu &v, int cpu)
{
	pin_to(cpu);
	const size_t n = queries().size();
	memset(vm.hva(ANSWERS_GPA, n * 16), 0xa5, n * 16);
	kvm_regs r = v.regs();
	r.rip = CODE_GPA;
	r.rsi = TABLE_GPA;
	r.rdi = ANSWERS_GPA;
	r.r8 = n;
	v.set_regs(r);
	v.expect_exit(KVM_EXIT_HLT);
	CHECK_MSG(sched_getcpu() == cpu, "KVM_RUN returned on CPU %d, pinned to %d", sched_getcpu(),
		  cpu);
	Answers a(n);
	memcpy(a.data(), vm.hva(ANSWERS_GPA, n * 16), n * 16);
	return a;
}

/* Both vCPUs' answers on each host CPU: [0]: vCPU 0 on CPU 0, vCPU 1 on CPU 1; [1]: swapped. */
std::array<Run, 2> run_both_ways()
{
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP("needs two online CPUs");
	Vm vm;
	/* dbgkvm: its own model, which a vCPU without KVM_SET_CPUID2 sees; KVM: the table. */
	const VcpuCpuid c = is_dbgkvm() ? VcpuCpuid::None : VcpuCpuid::Supported;
	Vcpu v0(vm, 0, c), v1(vm, 1, c);
	setup_guest(vm, v0, Mode::Long64, GUEST(guest_cpuid_table));
	setup_guest(vm, v1, Mode::Long64, GUEST(guest_cpuid_table));
	const auto &q = queries();
	vm.write(TABLE_GPA, q.data(), q.size() * sizeof(Query));
	std::array<Run, 2> runs;
	for (int swap = 0; swap < 2; swap++) {
		runs[swap].on[0] = run_queries(vm, v0, swap);
		runs[swap].on[1] = run_queries(vm, v1, 1 - swap);
	}
	return runs;
}

size_t index_of(uint32_t leaf, uint32_t subleaf)
{
	const auto &q = queries();
	for (size_t i = 0; i < q.size(); i++)
		if (q[i].leaf == leaf && q[i].subleaf == subleaf)
			return i;
	FAIL("query %#x.%u is not in the table", leaf, subleaf);
}

std::string show(const Regs &r)
{
	return tap::format("%08x %08x %08x %08x", r[EAX], r[EBX], r[ECX], r[EDX]);
}

/* Linux's KVM: the topology is the VMM's (KVM_SET_CPUID2), and the table this library
 * gives it, KVM_GET_SUPPORTED_CPUID, has none: no level in 0xB (its EDX, like leaf 1
 * EBX[31:24], is the APIC ID of the host CPU that ran KVM_GET_SUPPORTED_CPUID, for QEMU to
 * overwrite per vCPU). Checks that (the reason), then SKIPs. */
void skip_on_kvm(const Answers &a)
{
	if (!is_kvm())
		return;
	const Regs &b0 = a[index_of(0xb, 0)];
	CHECK_MSG(!(b0[EBX] & 0xffff) && !(b0[ECX] & 0xff00),
		  "KVM_GET_SUPPORTED_CPUID gives CPUID.B.0 %s: a topology to check",
		  show(b0).c_str());
	SKIP(
	    "Linux's KVM: the topology is the VMM's (KVM_SET_CPUID2), and KVM_GET_SUPPORTED_CPUID, "
	    "which this library sets, has none (no level in CPUID.B)");
}

/* The answers a vCPU sees, with what a check needs to know about the host. */
struct View {
	const Answers &a;
	const Regs &at(uint32_t leaf, uint32_t subleaf = 0) const
	{
		return a[index_of(leaf, subleaf)];
	}
	uint32_t max_basic() const { return at(0)[EAX]; }
	uint32_t max_ext() const { return at(0x80000000)[EAX]; }
	bool amd() const
	{
		const Regs &r = at(0); // AuthenticAMD, HygonGenuine
		return (r[EBX] == 0x68747541 && r[EDX] == 0x69746e65 && r[ECX] == 0x444d4163) ||
		       (r[EBX] == 0x6f677948 && r[EDX] == 0x6e65476e && r[ECX] == 0x656e6975);
	}
	bool topoext() const
	{
		return max_ext() >= 0x80000001 && (at(0x80000001)[ECX] & (1u << 22));
	}
	bool has_8000001e() const { return topoext() && max_ext() >= 0x8000001e; }
	/* The leaf that answers `leaf` (SDM Vol. 2A, CPUID: beyond the maximum of its range,
	 * Intel answers with the highest basic leaf; AMD with 0s, as no leaf here does). */
	uint32_t answering(uint32_t leaf) const
	{
		const bool in_range = leaf < 0x80000000 ? leaf <= max_basic() : leaf <= max_ext();
		return in_range || amd() ? leaf : max_basic();
	}
};

unsigned order(unsigned n)
{
	unsigned s = 0;
	while ((1u << s) < n)
		s++;
	return s;
}

} // namespace

TEST(cpuid_does_not_depend_on_the_host_cpu)
{
	const auto runs = run_both_ways();
	const auto &q = queries();
	int diffs = 0;
	for (int id = 0; id < 2; id++)
		for (size_t i = 0; i < q.size(); i++) {
			const Regs &a = runs[0].on[id][i], &b = runs[1].on[id][i];
			if (a == b)
				continue;
			diffs++;
			tap::diag("vCPU %d, CPUID %#x.%u: %s on CPU %d, %s on CPU %d", id,
				  q[i].leaf, q[i].subleaf, show(a).c_str(), id, show(b).c_str(),
				  1 - id);
		}
	CHECK_MSG(!diffs, "%d CPUID answers changed with the host CPU", diffs);
	if (is_kvm())
		tap::diag("KVM, the VMM's table (KVM_GET_SUPPORTED_CPUID): CPUID.1 %s, 0xB.0 %s",
			  show(runs[0].on[1][index_of(1, 0)]).c_str(),
			  show(runs[0].on[1][index_of(0xb, 0)]).c_str());
}

TEST(apic_ids_are_vcpu_ids)
{
	const auto runs = run_both_ways();
	skip_on_kvm(runs[0].on[0]);
	for (const Run &run : runs)
		for (uint32_t id = 0; id < 2; id++) {
			const View v{run.on[id]};
			CHECK_MSG(v.at(1)[EBX] >> 24 == id, "vCPU %u: CPUID.1:EBX[31:24] is %u", id,
				  v.at(1)[EBX] >> 24);
			for (uint32_t leaf : {0xbu, 0x1fu}) {
				if (v.max_basic() < leaf)
					continue; // not offered
				for (uint32_t s = 0; s < 4; s++)
					CHECK_MSG(v.at(leaf, s)[EDX] == id,
						  "vCPU %u: CPUID.%#x.%u:EDX (x2APIC ID) is %u", id,
						  leaf, s, v.at(leaf, s)[EDX]);
			}
			if (v.has_8000001e())
				CHECK_MSG(v.at(0x8000001e)[EAX] == id,
					  "vCPU %u: CPUID.8000001Eh:EAX (extended APIC ID) is %u",
					  id, v.at(0x8000001e)[EAX]);
		}
	const View v{runs[0].on[0]};
	tap::diag("host: max basic leaf %#x, max extended %#x, %s, TopologyExtensions %d",
		  v.max_basic(), v.max_ext(), v.amd() ? "AMD" : "not AMD", v.topoext());
}

TEST(leaves_agree_on_one_package)
{
	const auto runs = run_both_ways();
	skip_on_kvm(runs[0].on[0]);
	const int dev = open_dev();
	const long max_id = check_extension(dev, KVM_CAP_MAX_VCPU_ID);
	close(dev);
	CHECK_MSG(max_id >= 2, "KVM_CAP_MAX_VCPU_ID is %ld", max_id);
	const unsigned want_shift = order(max_id);
	for (uint32_t id = 0; id < 2; id++) {
		const View v{runs[0].on[id]};
		if (v.max_basic() < 0xb)
			SKIP("max basic leaf %#x: the host has no leaf 0xB, the guest neither",
			     v.max_basic());
		// 0xB: SMT level (shift 0, 1 thread), core level (the vCPU id bits, at most that
		// many cores), then type 0 with ECX[7:0] = the subleaf (SDM Vol. 2A, CPUID 0BH).
		const Regs &smt = v.at(0xb, 0), &core = v.at(0xb, 1);
		CHECK_MSG(smt[EAX] == 0 && smt[EBX] == 1 && smt[ECX] == 0x100,
			  "CPUID.B.0 is %s: not the SMT level, shift 0, 1 thread",
			  show(smt).c_str());
		CHECK_MSG(
		    core[EAX] == want_shift && core[EBX] >= 2 && core[EBX] <= (1u << want_shift) &&
			core[ECX] == 0x201,
		    "CPUID.B.1 is %s: not the core level of %u bits (KVM_CAP_MAX_VCPU_ID %ld)",
		    show(core).c_str(), want_shift, max_id);
		for (uint32_t s = 2; s < 4; s++) {
			const Regs &r = v.at(0xb, s);
			CHECK_MSG(r[EAX] == 0 && r[EBX] == 0 && r[ECX] == s,
				  "CPUID.B.%u is %s: not the end of the levels", s,
				  show(r).c_str());
		}
		if (v.max_basic() >= 0x1f)
			for (uint32_t s = 0; s < 4; s++)
				CHECK_MSG(
				    v.at(0x1f, s) == v.at(0xb, s), "CPUID.1F.%u %s, 0xB.%u %s", s,
				    show(v.at(0x1f, s)).c_str(), s, show(v.at(0xb, s)).c_str());
		else if (id == 0)
			tap::diag("max basic leaf %#x: no leaf 0x1F", v.max_basic());
		// Leaf 1: addressable IDs per package, valid with HTT (SDM Vol. 2A, CPUID).
		const Regs &l1 = v.at(1);
		CHECK_MSG(((l1[EBX] >> 16) & 0xff) == 1u << want_shift && (l1[EDX] & (1u << 28)),
			  "CPUID.1: EBX %08x EDX %08x: not %u IDs per package with HTT", l1[EBX],
			  l1[EDX], 1u << want_shift);
		// Leaf 4 (Intel): cores per package; L1 and L2 not shared between cores.
		for (uint32_t s = 0; s < 5; s++) {
			const Regs &c = v.at(4, s);
			if (!(c[EAX] & 0x1f))
				break;
			const uint32_t level = (c[EAX] >> 5) & 7,
				       share = ((c[EAX] >> 14) & 0xfff) + 1;
			CHECK_MSG((c[EAX] >> 26) + 1 == 1u << want_shift &&
				      share <= 1u << want_shift && (level >= 3 || share == 1),
				  "CPUID.4.%u:EAX %08x: L%u shared by %u, %u cores", s, c[EAX],
				  level, share, (c[EAX] >> 26) + 1);
		}
		if (v.amd()) {
			const uint32_t ecx = v.at(0x80000008)[ECX];
			CHECK_MSG(((ecx >> 12) & 0xf) == want_shift &&
				      (ecx & 0xff) + 1 == core[EBX],
				  "CPUID.80000008h:ECX %08x: not %u cores in %u APIC ID bits", ecx,
				  core[EBX], want_shift);
			CHECK_MSG(v.at(0x80000001)[ECX] & 2, "CPUID.80000001h:ECX.CmpLegacy is 0");
		}
		if (v.has_8000001e()) {
			const Regs &e = v.at(0x8000001e);
			CHECK_MSG(
			    e[EBX] == id && e[ECX] == 0,
			    "CPUID.8000001Eh is %s: not core %u, 1 thread per core, node 0 of 1",
			    show(e).c_str(), id);
		}
		if (v.max_ext() >= 0x80000026)
			CHECK_MSG(v.at(0x80000026) == Regs{}, "CPUID.80000026h.0 is %s, not hidden",
				  show(v.at(0x80000026)).c_str());
	}
	// Two vCPUs of one package differ in their APIC IDs alone.
	const auto &q = queries();
	const View v{runs[0].on[0]};
	for (size_t i = 0; i < q.size(); i++) {
		Regs a = runs[0].on[0][i], b = runs[0].on[1][i];
		switch (v.answering(q[i].leaf)) {
		case 1:
			a[EBX] &= 0xffffff, b[EBX] &= 0xffffff;
			break;
		case 0xb:
		case 0x1f:
			a[EDX] = b[EDX] = 0;
			break;
		case 0x8000001e:
			a[EAX] = b[EAX] = a[EBX] = b[EBX] = 0;
			break;
		}
		CHECK_MSG(a == b, "CPUID %#x.%u: vCPU 0 %s, vCPU 1 %s", q[i].leaf, q[i].subleaf,
			  show(a).c_str(), show(b).c_str());
	}
}
