// SPDX-License-Identifier: GPL-2.0
/*
 * events_test: KVM_GET_VCPU_EVENTS / KVM_SET_VCPU_EVENTS and KVM_CAP_EXCEPTION_PAYLOAD.
 *
 * KVM's rules (arch/x86/kvm/x86.c kvm_vcpu_ioctl_x86_get/set_vcpu_events):
 *  - GET reports the exception the next entry delivers. Without KVM_CAP_EXCEPTION_PAYLOAD
 *    a pending one (queued, not yet being delivered) is reported as injected too, with its
 *    payload delivered; with the cap, as pending only, with its payload (a #DB's DR6
 *    bits).
 *    Flags: NMI_PENDING, SHADOW, SMM, and PAYLOAD with the cap.
 *  - SET: unknown flags, PAYLOAD without the cap, an exception vector above 31 or 2, and
 *    TRIPLE_FAULT without its cap -> EINVAL. The exception replaces the queued one; none
 *    clears it. The interrupt shadow with VALID_SHADOW; nmi.masked.
 *  - dbgkvm is stricter (README): an interrupt or NMI to inject (no interrupts yet), SMM,
 *    an error code that does not fit the vector -> EINVAL; KVM takes them.
 * The guest here has an IDT whose handlers log what they saw (lib/debug.h).
 */
#include "debug.h"
#include "env.h"
#include "kvm.h"
#include "sys.h"
#include "tap.h"

#include <cerrno>
#include <sys/ioctl.h>

using namespace kt;

GUEST_DECLARE(guest_events);

namespace
{

kvm_vcpu_events get_events(Vcpu &v)
{
	kvm_vcpu_events e;
	XIOCTL(v.fd(), KVM_GET_VCPU_EVENTS, &e);
	return e;
}

int set_events(Vcpu &v, const kvm_vcpu_events &e)
{
	return ioctl(v.fd(), KVM_SET_VCPU_EVENTS, &e) ? -errno : 0;
}

void enable_payload_cap(Vm &vm, bool on)
{
	kvm_enable_cap cap{};
	cap.cap = KVM_CAP_EXCEPTION_PAYLOAD;
	cap.args[0] = on;
	XIOCTL(vm.fd(), KVM_ENABLE_CAP, &cap);
}

/* The guest's code starts at CODE_GPA; #GP/#UD resume there (the runtime's fixup). */
void expect_one_exception(DebugGuest &g, uint64_t vector, uint64_t err_or_dr6)
{
	g.set_param(0, 0);
	g.u64(DBG_FIXUP) = CODE_GPA;
	const std::vector<uint64_t> reports = g.run_to_halt();
	CHECK_MSG(!reports.empty() && reports.back() == 0x1234, "the guest did not report");
	const std::vector<LogEntry> log = g.log();
	CHECK_MSG(log.size() == 1, "expected one exception, the guest's handler saw: %s",
		  g.describe_log().c_str());
	CHECK_EQ(vector, log[0].vector);
	CHECK_EQ(uint64_t(CODE_GPA), log[0].rip);
	CHECK_MSG(log[0].dr6_or_err == err_or_dr6, "vector %llu: %s, expected %s",
		  (unsigned long long)vector, hex(log[0].dr6_or_err).c_str(),
		  hex(err_or_dr6).c_str());
}

} // namespace

TEST(events_after_reset)
{
	Vm vm;
	Vcpu v(vm, 0);
	const kvm_vcpu_events e = get_events(v);
	CHECK_EQ(0, int(e.exception.injected | e.exception.pending | e.interrupt.injected |
			e.nmi.injected | e.nmi.pending | e.nmi.masked | e.smi.smm |
			e.exception_has_payload));
	CHECK_EQ(0, int(e.interrupt.shadow));
	const uint32_t want =
	    KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM;
	CHECK_MSG((e.flags & want) == want && !(e.flags & KVM_VCPUEVENT_VALID_PAYLOAD), "flags %#x",
		  e.flags);
	CHECK_EQ(1L, check_extension(vm.fd(), KVM_CAP_VCPU_EVENTS));
	CHECK_EQ(1L, check_extension(vm.fd(), KVM_CAP_EXCEPTION_PAYLOAD));
	CHECK_ERRNO(EFAULT, ioctl(v.fd(), KVM_GET_VCPU_EVENTS, bad_user_ptr()));
	CHECK_ERRNO(EFAULT, ioctl(v.fd(), KVM_SET_VCPU_EVENTS, bad_user_ptr()));
}

TEST(set_events_refusals)
{
	Vm vm;
	Vcpu v(vm, 0);
	const kvm_vcpu_events good = get_events(v);
	auto refused = [&](const char *what, auto change) {
		kvm_vcpu_events e = good;
		change(e);
		CHECK_MSG(set_events(v, e) == -EINVAL, "%s: taken", what);
	};
	refused("an unknown flag", [](kvm_vcpu_events &e) { e.flags |= 0x40; });
	refused("PAYLOAD without the cap",
		[](kvm_vcpu_events &e) { e.flags |= KVM_VCPUEVENT_VALID_PAYLOAD; });
	refused("vector 32", [](kvm_vcpu_events &e) {
		e.exception.injected = 1;
		e.exception.nr = 32;
	});
	refused("vector 2 (NMI)", [](kvm_vcpu_events &e) {
		e.exception.injected = 1;
		e.exception.nr = 2;
	});
	refused("TRIPLE_FAULT without its cap",
		[](kvm_vcpu_events &e) { e.flags |= KVM_VCPUEVENT_VALID_TRIPLE_FAULT; });
	/* vector 40 with neither injected nor pending: nothing to deliver, taken */
	kvm_vcpu_events e = good;
	e.exception.nr = 40;
	CHECK_EQ(0, set_events(v, e));
	if (!is_dbgkvm())
		return;
	/* Stricter than KVM (README): what dbgkvm cannot deliver yet, or the CPU refuses. */
	refused("an interrupt to inject", [](kvm_vcpu_events &e) {
		e.interrupt.injected = 1;
		e.interrupt.nr = 0x20;
	});
	refused("an NMI to inject", [](kvm_vcpu_events &e) { e.nmi.injected = 1; });
	refused("a pending NMI", [](kvm_vcpu_events &e) { e.nmi.pending = 1; });
	refused("SMM", [](kvm_vcpu_events &e) { e.smi.smm = 1; });
	refused("a pending SMI", [](kvm_vcpu_events &e) { e.smi.pending = 1; });
	refused("#GP without its error code", [](kvm_vcpu_events &e) {
		e.exception.injected = 1;
		e.exception.nr = 13;
	});
	refused("#UD with an error code", [](kvm_vcpu_events &e) {
		e.exception.injected = 1;
		e.exception.nr = 6;
		e.exception.has_error_code = 1;
	});
	/* NMI_PENDING's flag with no NMI pending, SIPI, latched INIT (no local APIC): taken */
	e = good;
	e.flags |= KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	e.sipi_vector = 0x12;
	e.smi.latched_init = 1;
	CHECK_EQ(0, set_events(v, e));
}

TEST(injected_exception_is_delivered)
{
	DebugGuest g(GUEST(guest_events));
	kvm_vcpu_events e = get_events(g.vcpu);
	e.exception.injected = 1;
	e.exception.nr = 13;
	e.exception.has_error_code = 1;
	e.exception.error_code = 0x18;
	CHECK_EQ(0, set_events(g.vcpu, e));
	const kvm_vcpu_events got = get_events(g.vcpu);
	CHECK_EQ(1, int(got.exception.injected));
	CHECK_EQ(13, int(got.exception.nr));
	CHECK_EQ(1, int(got.exception.has_error_code));
	CHECK_EQ(0x18u, got.exception.error_code);
	expect_one_exception(g, 13, 0x18);
	CHECK_EQ(0, int(get_events(g.vcpu).exception.injected));
}

TEST(pending_db_payload_reaches_the_guests_dr6)
{
	/* The subject of KVM_CAP_EXCEPTION_PAYLOAD: a pending #DB carries the DR6 bits it
	 * sets (here BS and B1), which the guest's handler then reads. */
	DebugGuest g(GUEST(guest_events));
	enable_payload_cap(g.vm, true);
	kvm_vcpu_events e = get_events(g.vcpu);
	CHECK(e.flags & KVM_VCPUEVENT_VALID_PAYLOAD);
	e.exception.pending = 1;
	e.exception.nr = 1;
	e.exception_has_payload = 1;
	e.exception_payload = DR6_BS | 0x2;
	CHECK_EQ(0, set_events(g.vcpu, e));
	const kvm_vcpu_events got = get_events(g.vcpu);
	CHECK_EQ(1, int(got.exception.pending));
	CHECK_EQ(0, int(got.exception.injected));
	CHECK_EQ(1, int(got.exception.nr));
	CHECK_EQ(1, int(got.exception_has_payload));
	CHECK_EQ(DR6_BS | 0x2, uint64_t(got.exception_payload));
	expect_one_exception(g, 1, DR6_ACTIVE_LOW | DR6_BS | 0x2);
}

TEST(pending_is_reported_as_injected_without_the_cap)
{
	/* KVM_GUESTDBG_INJECT_DB queues a #DB: pending, without a payload. Without the cap
	 * it is reported as injected too (pending stays set, and KVM_SET_VCPU_EVENTS
	 * ignores it without the cap). */
	DebugGuest g(GUEST(guest_events));
	xset_guest_debug(g.vcpu, GUESTDBG_ENABLE | GUESTDBG_INJECT_DB);
	kvm_vcpu_events e = get_events(g.vcpu);
	CHECK_EQ(1, int(e.exception.injected));
	CHECK_EQ(1, int(e.exception.pending));
	CHECK_EQ(1, int(e.exception.nr));
	enable_payload_cap(g.vm, true);
	e = get_events(g.vcpu);
	CHECK_EQ(0, int(e.exception.injected));
	CHECK_EQ(1, int(e.exception.pending));
	CHECK_EQ(0, int(e.exception_has_payload));
	enable_payload_cap(g.vm, false);
	xset_guest_debug(g.vcpu, 0);
	expect_one_exception(g, 1, DR6_ACTIVE_LOW);
}

TEST(set_events_round_trip_keeps_the_queued_exception)
{
	DebugGuest g(GUEST(guest_events));
	xset_guest_debug(g.vcpu, GUESTDBG_ENABLE | GUESTDBG_INJECT_DB);
	xset_guest_debug(g.vcpu, 0);
	CHECK_EQ(0, set_events(g.vcpu, get_events(g.vcpu)));
	expect_one_exception(g, 1, DR6_ACTIVE_LOW);
}

TEST(set_events_without_an_exception_drops_the_queued_one)
{
	DebugGuest g(GUEST(guest_events));
	xset_guest_debug(g.vcpu, GUESTDBG_ENABLE | GUESTDBG_INJECT_DB);
	xset_guest_debug(g.vcpu, 0);
	kvm_vcpu_events e = get_events(g.vcpu);
	e.exception.injected = 0;
	CHECK_EQ(0, set_events(g.vcpu, e));
	CHECK_EQ(0, int(get_events(g.vcpu).exception.injected));
	g.u64(DBG_FIXUP) = CODE_GPA;
	const std::vector<uint64_t> reports = g.run_to_halt();
	CHECK_MSG(g.log().empty(), "the dropped #DB was delivered: %s", g.describe_log().c_str());
}

TEST(interrupt_shadow_and_nmi_mask_round_trip)
{
	Vm vm;
	Vcpu v(vm, 0);
	kvm_vcpu_events e = get_events(v);
	e.flags = KVM_VCPUEVENT_VALID_SHADOW;
	e.interrupt.shadow = KVM_X86_SHADOW_INT_MOV_SS;
	e.nmi.masked = 1;
	CHECK_EQ(0, set_events(v, e));
	kvm_vcpu_events got = get_events(v);
	/* SVM has one shadow bit for both, and reports both (KVM's svm_get_interrupt_shadow) */
	CHECK_MSG(got.interrupt.shadow & KVM_X86_SHADOW_INT_MOV_SS, "shadow %#x",
		  got.interrupt.shadow);
	CHECK_EQ(1, int(got.nmi.masked));
	/* without VALID_SHADOW the shadow stays */
	e.flags = 0;
	e.interrupt.shadow = 0;
	e.nmi.masked = 0;
	CHECK_EQ(0, set_events(v, e));
	got = get_events(v);
	CHECK(got.interrupt.shadow & KVM_X86_SHADOW_INT_MOV_SS);
	CHECK_EQ(0, int(got.nmi.masked));
	e.flags = KVM_VCPUEVENT_VALID_SHADOW;
	CHECK_EQ(0, set_events(v, e));
	CHECK_EQ(0, int(get_events(v).interrupt.shadow));
}

TEST(enable_cap_exception_payload)
{
	Vm vm;
	kvm_enable_cap cap{};
	cap.cap = KVM_CAP_EXCEPTION_PAYLOAD;
	cap.args[0] = 1;
	cap.flags = 1;
	CHECK_ERRNO(EINVAL, ioctl(vm.fd(), KVM_ENABLE_CAP, &cap));
	cap.flags = 0;
	CHECK_OK(ioctl(vm.fd(), KVM_ENABLE_CAP, &cap));
	Vcpu v(vm, 0);
	CHECK(get_events(v).flags & KVM_VCPUEVENT_VALID_PAYLOAD);
	cap.args[0] = 0;
	CHECK_OK(ioctl(vm.fd(), KVM_ENABLE_CAP, &cap));
	CHECK(!(get_events(v).flags & KVM_VCPUEVENT_VALID_PAYLOAD));
}
