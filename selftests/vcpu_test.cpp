// SPDX-License-Identifier: GPL-2.0
/*
 * vcpu_test: vCPU state through KVM_GET/SET_REGS and KVM_GET/SET_SREGS, the
 * kvm_run mapping, and argument checks on the vCPU fd.
 *
 * KVM's rules (arch/x86/kvm/x86.c):
 *  - After KVM_CREATE_VCPU the vCPU is in the reset state (kvm_vcpu_reset):
 *    CS:IP = f000:fff0 with CS.base ffff0000, RFLAGS = 2, CR0 = 0x60000010.
 *  - KVM_SET_REGS forces RFLAGS bit 1 (X86_EFLAGS_FIXED, __set_regs).
 *  - KVM_SET_SREGS rejects incoherent state with EINVAL before changing
 *    anything (kvm_is_valid_sregs): EFER.LME with CR0.PG needs CR4.PAE and
 *    EFER.LMA; EFER.LMA needs both; CR3 must fit the guest's physical
 *    address width in long mode (36 bits without KVM_SET_CPUID2); reserved
 *    CR4 bits; CR0.PG without PE, NW without CD, bits 63:32 (kvm_is_valid_cr0).
 *  - Unreadable/unwritable ioctl arguments: EFAULT. KVM_RUN takes no
 *    argument: arg != 0 is EINVAL.
 *  - Only the vCPU fd can be mmap'ed; the system and VM fds have no mmap
 *    (ENODEV from the VFS).
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "sys.h"
#include "tap.h"

#include <cstring>
#include <sys/ioctl.h>
#include <sys/mman.h>

using namespace kt;

GUEST_DECLARE(guest_counter);
GUEST_DECLARE(guest_cr8);

static void check_segment(const char *name, const kvm_segment &want, const kvm_segment &got)
{
	CHECK_MSG(
	    want.base == got.base && want.limit == got.limit && want.selector == got.selector &&
		want.type == got.type && want.present == got.present && want.dpl == got.dpl &&
		want.db == got.db && want.s == got.s && want.l == got.l && want.g == got.g,
	    "%s: expected base 0x%llx limit 0x%x sel 0x%x type %u p %u dpl %u db %u s %u l "
	    "%u g %u, got base 0x%llx limit 0x%x sel 0x%x type %u p %u dpl %u db %u s %u "
	    "l %u g %u",
	    name, (unsigned long long)want.base, want.limit, want.selector, want.type, want.present,
	    want.dpl, want.db, want.s, want.l, want.g, (unsigned long long)got.base, got.limit,
	    got.selector, got.type, got.present, got.dpl, got.db, got.s, got.l, got.g);
}

static void check_sregs(const kvm_sregs &want, const kvm_sregs &got)
{
	check_segment("cs", want.cs, got.cs);
	check_segment("ds", want.ds, got.ds);
	check_segment("es", want.es, got.es);
	check_segment("ss", want.ss, got.ss);
	check_segment("fs", want.fs, got.fs);
	check_segment("gs", want.gs, got.gs);
	CHECK_EQ((uint64_t)want.cr0, (uint64_t)got.cr0);
	CHECK_EQ((uint64_t)want.cr3, (uint64_t)got.cr3);
	CHECK_EQ((uint64_t)want.cr4, (uint64_t)got.cr4);
	CHECK_EQ((uint64_t)want.efer, (uint64_t)got.efer);
	CHECK_EQ((uint64_t)want.gdt.base, (uint64_t)got.gdt.base);
	CHECK_EQ(want.gdt.limit, got.gdt.limit);
	CHECK_EQ((uint64_t)want.idt.base, (uint64_t)got.idt.base);
	CHECK_EQ(want.idt.limit, got.idt.limit);
}

TEST(reset_state)
{
	Vm vm;
	Vcpu vcpu(vm, 0);
	kvm_regs r = vcpu.regs();
	kvm_sregs s = vcpu.sregs();
	CHECK_EQ((uint64_t)0xfff0, (uint64_t)r.rip);
	CHECK_EQ((uint64_t)0x2, (uint64_t)r.rflags);
	CHECK_EQ((uint16_t)0xf000, s.cs.selector);
	CHECK_EQ((uint64_t)0xffff0000, (uint64_t)s.cs.base);
	CHECK_EQ((uint64_t)0x60000010, (uint64_t)s.cr0);
	CHECK_EQ((uint64_t)0, (uint64_t)s.cr4);
	CHECK_EQ((uint64_t)0, (uint64_t)s.efer);
	CHECK_EQ((uint16_t)0xffff, s.gdt.limit);
	CHECK_EQ((uint16_t)0xffff, s.idt.limit);
}

TEST(reset_apic_base_bsp_is_vcpu0)
{
	/*
	 * KVM: xAPIC enabled at 0xfee00000, IA32_APIC_BASE.BSP only on the vCPU whose id is
	 * the VM's bsp_vcpu_id, 0 (kvm_vcpu_is_reset_bsp). Found by fuzz_test (seed 0x2,
	 * compare): dbgkvm said BSP on every vCPU.
	 */
	Vm vm;
	Vcpu v0(vm, 0), v1(vm, 1), v5(vm, 5);
	CHECK_EQ((uint64_t)0xfee00900, (uint64_t)v0.sregs().apic_base);
	CHECK_EQ((uint64_t)0xfee00800, (uint64_t)v1.sregs().apic_base);
	CHECK_EQ((uint64_t)0xfee00800, (uint64_t)v5.sregs().apic_base);
}

TEST(sregs_apic_base_reserved_einval)
{
	/*
	 * KVM_SET_SREGS takes the APIC base as kvm_set_apic_base() does: bits 0-7 and 9,
	 * bits above MAXPHYADDR, and x2APIC enabled without the xAPIC enable bit are refused
	 * before anything changes. Found by fuzz_test (seed 0x2, compare): dbgkvm took
	 * 0x89b6fdb3b373deb5.
	 */
	Vm vm;
	Vcpu vcpu(vm, 0);
	kvm_sregs good = vcpu.sregs();
	for (uint64_t bad : {0xfee00901ull, 0xfee00b00ull, 0xfee00900ull | 1ull << 63,
			     0xfee00400ull, 0x89b6fdb3b373deb5ull}) {
		kvm_sregs s = good;
		s.apic_base = bad;
		errno = 0;
		int r = ioctl(vcpu.fd(), KVM_SET_SREGS, &s);
		CHECK_MSG(r == -1 && errno == EINVAL,
			  "apic_base 0x%llx: expected -1/EINVAL, got %d/%s",
			  (unsigned long long)bad, r, tap::errno_name(errno).c_str());
		check_sregs(good, vcpu.sregs());
		CHECK_EQ((uint64_t)good.apic_base, (uint64_t)vcpu.sregs().apic_base);
	}
	/* Disabled, and moved: both fine. */
	for (uint64_t ok : {0xfee00100ull, 0xfed00900ull}) {
		kvm_sregs s = good;
		s.apic_base = ok;
		vcpu.set_sregs(s);
		CHECK_EQ(ok, (uint64_t)vcpu.sregs().apic_base);
	}
}

TEST(mp_state_without_local_apic_is_runnable)
{
	/*
	 * Without an in-kernel local APIC every vCPU is runnable (KVM's kvm_arch_vcpu_create)
	 * and stays so: HLT exits to user space. KVM_SET_MP_STATE takes RUNNABLE only; the
	 * states a local APIC leaves (UNINITIALIZED, INIT_RECEIVED, HALTED, SIPI_RECEIVED,
	 * AP_RESET_HOLD) and those of other architectures are -EINVAL
	 * (kvm_arch_vcpu_ioctl_set_mpstate).
	 */
	Vm vm;
	Vcpu v0(vm, 0), v1(vm, 1);
	for (Vcpu *v : {&v0, &v1}) {
		kvm_mp_state s{~0u};
		CHECK_OK(ioctl(v->fd(), KVM_GET_MP_STATE, &s));
		CHECK_EQ((uint32_t)KVM_MP_STATE_RUNNABLE, s.mp_state);
		s.mp_state = KVM_MP_STATE_RUNNABLE;
		CHECK_OK(ioctl(v->fd(), KVM_SET_MP_STATE, &s));
		for (uint32_t bad : std::initializer_list<uint32_t>{
			 KVM_MP_STATE_UNINITIALIZED, KVM_MP_STATE_INIT_RECEIVED,
			 KVM_MP_STATE_HALTED, KVM_MP_STATE_SIPI_RECEIVED, KVM_MP_STATE_STOPPED,
			 KVM_MP_STATE_CHECK_STOP, KVM_MP_STATE_OPERATING, KVM_MP_STATE_LOAD,
			 KVM_MP_STATE_AP_RESET_HOLD, 10u, 0xffffffffu}) {
			s.mp_state = bad;
			CHECK_ERRNO(EINVAL, ioctl(v->fd(), KVM_SET_MP_STATE, &s));
		}
		CHECK_OK(ioctl(v->fd(), KVM_GET_MP_STATE, &s));
		CHECK_EQ((uint32_t)KVM_MP_STATE_RUNNABLE, s.mp_state);
		CHECK_ERRNO(EFAULT, ioctl(v->fd(), KVM_GET_MP_STATE, bad_user_ptr()));
		CHECK_ERRNO(EFAULT, ioctl(v->fd(), KVM_SET_MP_STATE, bad_user_ptr()));
	}
}

TEST(sregs_cr8_is_the_guests_tpr)
{
	/*
	 * Without an in-kernel APIC, KVM_SET_SREGS' cr8 is the guest's CR8 (kvm_set_cr8; a value
	 * above 15 is ignored) and KVM_GET_SREGS reports what the guest wrote to CR8. Found by
	 * fuzz_test (compare, seed 0x18ede30c07f428ba): dbgkvm's SVM backend read 0 and dropped
	 * what was set.
	 */
	Guest g(Mode::Long64, GUEST(guest_cr8));
	kvm_sregs s = g.vcpu.sregs();
	s.cr8 = 5;
	g.vcpu.set_sregs(s);
	CHECK_EQ((uint64_t)5, (uint64_t)g.vcpu.sregs().cr8);
	s.cr8 = 0x1f;
	g.vcpu.set_sregs(s);
	CHECK_EQ((uint64_t)5, (uint64_t)g.vcpu.sregs().cr8);
	/* KVM also takes CR8 from kvm_run->cr8 at every KVM_RUN (dbgkvm does not yet): a VMM
	 * without in-kernel APIC keeps the two equal. */
	g.vcpu.run()->cr8 = 5;
	CHECK_EQ((uint64_t)5, g.vcpu.expect_out(PORT_REPORT, 4));
	g.vcpu.expect_exit(KVM_EXIT_HLT);
	CHECK_EQ((uint64_t)7, (uint64_t)g.vcpu.sregs().cr8);
}

TEST(regs_round_trip)
{
	Vm vm;
	Vcpu vcpu(vm, 0);
	kvm_regs w;
	uint64_t *words = reinterpret_cast<uint64_t *>(&w);
	for (size_t i = 0; i < sizeof(w) / 8; i++)
		words[i] = 0x0101010101010101ull * (i + 1);
	w.rip = 0x1234;
	w.rflags = 0x2 | 0x1 | 0x40 | 0x800; /* CF, ZF, OF */
	vcpu.set_regs(w);
	kvm_regs r = vcpu.regs();
	CHECK_MSG(!memcmp(&w, &r, sizeof(w)), "KVM_GET_REGS differs from what KVM_SET_REGS set");
}

TEST(regs_rflags_fixed_bit)
{
	Vm vm;
	Vcpu vcpu(vm, 0);
	kvm_regs w = vcpu.regs();
	w.rflags = 0;
	vcpu.set_regs(w);
	CHECK_EQ((uint64_t)0x2, (uint64_t)vcpu.regs().rflags);
}

TEST(sregs_round_trip_modes)
{
	for (Mode m : {Mode::Real, Mode::Prot32, Mode::Long64}) {
		Vm vm;
		Vcpu vcpu(vm, 0);
		build_memory(vm, m);
		kvm_sregs s = vcpu.sregs();
		sregs_for_mode(s, m);
		vcpu.set_sregs(s);
		try {
			check_sregs(s, vcpu.sregs());
		} catch (tap::Failure &f) {
			f.msg = std::string(mode_name(m)) + ": " + f.msg;
			throw;
		}
	}
}

TEST(sregs_get_set_get_stable)
{
	/* What KVM_GET_SREGS returns is accepted back unchanged (VMMs save/restore this way). */
	Vm vm;
	Vcpu vcpu(vm, 0);
	kvm_sregs a = vcpu.sregs();
	vcpu.set_sregs(a);
	kvm_sregs b = vcpu.sregs();
	check_sregs(a, b);
	CHECK_EQ((uint64_t)a.apic_base, (uint64_t)b.apic_base);
	CHECK_EQ((uint64_t)a.cr8, (uint64_t)b.cr8);
}

static void check_sregs_rejected(const char *what, void (*mutate)(kvm_sregs &))
{
	Vm vm;
	Vcpu vcpu(vm, 0);
	build_memory(vm, Mode::Long64);
	kvm_sregs good = vcpu.sregs();
	sregs_for_mode(good, Mode::Long64);
	vcpu.set_sregs(good);
	kvm_sregs bad = good;
	mutate(bad);
	errno = 0;
	int r = ioctl(vcpu.fd(), KVM_SET_SREGS, &bad);
	CHECK_MSG(r == -1 && errno == EINVAL, "%s: expected -1/EINVAL, got %d/%s", what, r,
		  tap::errno_name(errno).c_str());
	/* Nothing changed. */
	check_sregs(good, vcpu.sregs());
}

TEST(sregs_long_mode_without_pae)
{
	check_sregs_rejected("LME|LMA, PG, no PAE", [](kvm_sregs &s) { s.cr4 &= ~0x20ull; });
}

TEST(sregs_lma_without_lme)
{
	check_sregs_rejected("LMA without LME", [](kvm_sregs &s) { s.efer &= ~0x100ull; });
}

TEST(sregs_lme_pg_without_lma)
{
	check_sregs_rejected("LME and PG without LMA", [](kvm_sregs &s) { s.efer &= ~0x400ull; });
}

TEST(sregs_lma_without_paging)
{
	check_sregs_rejected("LMA without PG", [](kvm_sregs &s) { s.cr0 &= ~0x80000000ull; });
}

TEST(sregs_cr3_beyond_maxphyaddr)
{
	/*
	 * Bit 52 is above any MAXPHYADDR (at most 52 bits; 36 without
	 * KVM_SET_CPUID2, cpuid_query_maxphyaddr) and is not a LAM bit.
	 */
	check_sregs_rejected("CR3 bit 52", [](kvm_sregs &s) { s.cr3 |= 1ull << 52; });
}

TEST(sregs_cr4_reserved)
{
	check_sregs_rejected("CR4 bit 63", [](kvm_sregs &s) { s.cr4 |= 1ull << 63; });
	check_sregs_rejected("CR4 bit 31", [](kvm_sregs &s) { s.cr4 |= 1ull << 31; });
}

TEST(sregs_cr0_incoherent)
{
	check_sregs_rejected("CR0.PG without PE", [](kvm_sregs &s) {
		s.cr0 &= ~1ull;
		s.efer = 0;
		s.cr4 = 0;
	});
	check_sregs_rejected("CR0.NW without CD", [](kvm_sregs &s) { s.cr0 |= 1ull << 29; });
	check_sregs_rejected("CR0 bit 32", [](kvm_sregs &s) { s.cr0 |= 1ull << 32; });
}

TEST(bad_pointers_efault)
{
	Vm vm;
	Vcpu vcpu(vm, 0);
	for (void *p : {bad_user_ptr(), kernel_ptr(), static_cast<void *>(nullptr)}) {
		CHECK_ERRNO(EFAULT, ioctl(vcpu.fd(), KVM_GET_REGS, p));
		CHECK_ERRNO(EFAULT, ioctl(vcpu.fd(), KVM_SET_REGS, p));
		CHECK_ERRNO(EFAULT, ioctl(vcpu.fd(), KVM_GET_SREGS, p));
		CHECK_ERRNO(EFAULT, ioctl(vcpu.fd(), KVM_SET_SREGS, p));
	}
	/* The vCPU is unharmed. */
	CHECK_EQ((uint64_t)0xfff0, (uint64_t)vcpu.regs().rip);
}

TEST(run_with_argument_einval)
{
	Guest g(Mode::Long64, GUEST(guest_counter));
	CHECK_ERRNO(EINVAL, ioctl(g.vcpu.fd(), KVM_RUN, 1));
	CHECK_EQ(0ull, g.vcpu.expect_out(PORT_REPORT, 4)); /* and it still runs */
}

TEST(regs_follow_the_guest)
{
	/* Each KVM_RUN ends at the next OUT: after k runs the guest counted to k - 1. */
	Guest g(Mode::Long64, GUEST(guest_counter));
	for (uint64_t i = 0; i < 5; i++)
		CHECK_EQ(i, g.vcpu.expect_out(PORT_REPORT, 4));
	CHECK_EQ((uint64_t)4, (uint64_t)g.vcpu.regs().rax);
	/* Registers set between exits are what the guest continues with. */
	kvm_regs r = g.vcpu.regs();
	r.rax = 100;
	g.vcpu.set_regs(r);
	CHECK_EQ(101ull, g.vcpu.expect_out(PORT_REPORT, 4));
}

TEST(sync_regs)
{
	/*
	 * KVM_CAP_SYNC_REGS (KVM's sync_regs/store_regs): KVM_RUN first takes the sets marked
	 * in kvm_dirty_regs from kvm_run->s.regs (and clears their bits), in the order regs,
	 * sregs, events, each refused as its SET ioctl would be (-EINVAL, the earlier ones
	 * taken); whatever it returns, it stores the sets marked in kvm_valid_regs. Bits
	 * beyond KVM_SYNC_X86_VALID_FIELDS in either field: -EINVAL.
	 */
	Guest g(Mode::Long64, GUEST(guest_counter));
	CHECK_EQ(long(KVM_SYNC_X86_VALID_FIELDS), check_extension(g.vm.fd(), KVM_CAP_SYNC_REGS));
	kvm_run *run = g.vcpu.run();
	run->kvm_valid_regs = 8;
	CHECK_EQ(-EINVAL, g.vcpu.run_raw());
	run->kvm_valid_regs = 0;
	run->kvm_dirty_regs = 0x10;
	CHECK_EQ(-EINVAL, g.vcpu.run_raw());
	run->kvm_dirty_regs = 0;
	/* stored on every exit: the same as the GET ioctls */
	run->kvm_valid_regs = KVM_SYNC_X86_VALID_FIELDS;
	CHECK_EQ(uint64_t(0), g.vcpu.expect_out(PORT_REPORT, 4));
	const kvm_regs r = g.vcpu.regs();
	CHECK(!memcmp(&r, &run->s.regs.regs, sizeof(r)));
	const kvm_sregs s = g.vcpu.sregs();
	CHECK(!memcmp(&s, &run->s.regs.sregs, sizeof(s)));
	kvm_vcpu_events e;
	CHECK_OK(ioctl(g.vcpu.fd(), KVM_GET_VCPU_EVENTS, &e));
	CHECK(!memcmp(&e, &run->s.regs.events, sizeof(e)));
	/* taken from kvm_run: RAX (the counter) jumps to 100; the OUT completes, then +1 */
	run->s.regs.regs.rax = 100;
	run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
	CHECK_EQ(uint64_t(101), g.vcpu.expect_out(PORT_REPORT, 4));
	CHECK_EQ(uint64_t(0), uint64_t(run->kvm_dirty_regs));
	CHECK_EQ(uint64_t(101), uint64_t(run->s.regs.regs.rax));
	/* a refused sregs set: -EINVAL, the regs before it taken, its bit left */
	run->s.regs.regs.rax = 200;
	run->s.regs.sregs.cr0 |= 1ull << 29; /* NW without CD */
	run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	CHECK_EQ(-EINVAL, g.vcpu.run_raw());
	CHECK_EQ(uint64_t(KVM_SYNC_X86_SREGS), uint64_t(run->kvm_dirty_regs));
	CHECK_EQ(uint64_t(200), g.vcpu.regs().rax);
	CHECK_EQ(uint64_t(200), uint64_t(run->s.regs.regs.rax)); /* stored anyway */
	CHECK_EQ(s.cr0, g.vcpu.sregs().cr0);
	/* a refused events set */
	run->kvm_dirty_regs = KVM_SYNC_X86_EVENTS;
	run->s.regs.events.flags = 0x40;
	CHECK_EQ(-EINVAL, g.vcpu.run_raw());
	CHECK_EQ(uint64_t(KVM_SYNC_X86_EVENTS), uint64_t(run->kvm_dirty_regs));
	run->kvm_dirty_regs = 0;
	/* immediate_exit: -EINTR, the sets stored */
	run->s.regs.regs.rax = 0;
	run->immediate_exit = 1;
	CHECK_EQ(-EINTR, g.vcpu.run_raw());
	CHECK_EQ(uint64_t(200), uint64_t(run->s.regs.regs.rax));
	run->immediate_exit = 0;
	run->kvm_valid_regs = 0;
}

TEST(mmap_only_on_vcpu_fd)
{
	Vm vm;
	Vcpu vcpu(vm, 0);
	/* The kvm_run page and the PIO page, as KVM_GET_VCPU_MMAP_SIZE says. */
	void *p = mmap(nullptr, vm.run_size(), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu.fd(), 0);
	CHECK(p != MAP_FAILED);
	/* Two mappings of one vCPU show the same kvm_run. */
	static_cast<kvm_run *>(p)->immediate_exit = 1;
	CHECK_EQ((uint8_t)1, vcpu.run()->immediate_exit);
	munmap(p, vm.run_size());
	for (int fd : {vm.fd(), vm.dev_fd()}) {
		errno = 0;
		void *q = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
		CHECK_MSG(q == MAP_FAILED && errno == ENODEV,
			  "mmap of fd %d: expected ENODEV, got %s", fd,
			  q == MAP_FAILED ? tap::errno_name(errno).c_str() : "success");
	}
}
