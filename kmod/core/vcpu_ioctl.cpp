// SPDX-License-Identifier: GPL-2.0
// vCPU ioctls other than KVM_RUN: register state, validated as KVM validates it.
#include "core/cpuid_table.hpp"
#include "core/cr_rules.hpp"
#include "core/fpu_state.hpp"
#include "core/msr_rules.hpp"
#include "core/vcpu.hpp"
#include "core/vm.hpp"
#include "dbgkvm_glue.h"
#include "debugreg/guest_debug.hpp"

namespace dbgkvm
{

using namespace x86;

namespace
{
// KVM's kvm_is_valid_sregs() and kvm_is_valid_cr0/cr4() (6.12's, which checks EFER too),
// with dbgkvm's feature set: CR4 and EFER as the vCPU's CPUID allows, CR3 within its
// MAXPHYADDR in long mode.
bool sregs_valid(const kvm_sregs &s, u64 cr4_reserved, const cpuidt::Features &f)
{
	if (s.cr0 >> 32 || ((s.cr0 & CR0_NW) && !(s.cr0 & CR0_CD)) ||
	    ((s.cr0 & CR0_PG) && !(s.cr0 & CR0_PE)))
		return false;
	if (s.cr4 & cr4_reserved)
		return false;
	if ((s.efer & ~msr::EFER_GUEST_BITS) || !msr::efer_cpuid_allows(s.efer, f.nx, f.lm))
		return false;
	if ((s.efer & EFER_LME) && (s.cr0 & CR0_PG)) {
		if (!(s.cr4 & CR4_PAE) || !(s.efer & EFER_LMA) || (s.cr3 & f.above_maxphyaddr()))
			return false;
	} else if ((s.efer & EFER_LMA) || s.cs.l) {
		return false;
	}
	return true;
}
} // namespace

void Vcpu::read_regs(kvm_regs *out)
{
	kvm_regs &r = *out;
	__u64 *dst[] = {&r.rax, &r.rcx, &r.rdx, &r.rbx, &r.rsp, &r.rbp, &r.rsi, &r.rdi, &r.r8,
			&r.r9,	&r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15, &r.rip, &r.rflags};
	for (unsigned i = 0; i < NR_REGS; i++)
		*dst[i] = reg(static_cast<Reg>(i));
	// TF is hidden while user space single-steps the guest (KVM's kvm_get_rflags).
	r.rflags = debugreg::guest_rflags(dr_, r.rflags);
}

Errno Vcpu::get_regs(unsigned long arg)
{
	kvm_regs r;
	read_regs(&r);
	return dk_copy_to_user(arg, &r, sizeof(r)) ? -DK_EFAULT : 0;
}

void Vcpu::write_regs(const kvm_regs &r)
{
	const u64 src[] = {r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi, r.r8,
			   r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip};
	for (unsigned i = 0; i < RFLAGS; i++)
		set_reg(static_cast<Reg>(i), src[i]);
	// RFLAGS bit 1 is always 1, and TF stays forced while user space single-steps at
	// this RIP (KVM's kvm_set_rflags). RIP first: the TF rule looks at it.
	set_reg(RFLAGS, debugreg::hw_rflags_for(dr_, r.rflags | 2, linear_rip()));
}

Errno Vcpu::set_regs(unsigned long arg)
{
	kvm_regs r;
	if (dk_copy_from_user(&r, arg, sizeof(r)))
		return -DK_EFAULT;
	write_regs(r);
	return 0;
}

void Vcpu::read_sregs(kvm_sregs *s)
{
	*s = kvm_sregs{};
	arch_->get_sregs(*s);
	s->apic_base = msrs_.apic_base();
}

Errno Vcpu::get_sregs(unsigned long arg)
{
	kvm_sregs s;
	read_sregs(&s);
	return dk_copy_to_user(arg, &s, sizeof(s)) ? -DK_EFAULT : 0;
}

// KVM's __set_sregs_common(): then kvm_set_apic_base(), -EINVAL before any change.
Errno Vcpu::write_sregs(const kvm_sregs &s)
{
	if (!sregs_valid(s, cr4_reserved(), features_) ||
	    !msr::apic_base_valid(s.apic_base, features_))
		return -DK_EINVAL;
	arch_->set_sregs(s);
	const MsrResult r = msrs_.set(MSR_IA32_APICBASE, s.apic_base, true, features_);
	return r == MsrResult::Done ? 0 : -DK_EINVAL; // checked above: cannot fail
}

Errno Vcpu::set_sregs(unsigned long arg)
{
	kvm_sregs s;
	if (dk_copy_from_user(&s, arg, sizeof(s)))
		return -DK_EFAULT;
	return write_sregs(s);
}

// KVM_GET/SET_MP_STATE without an in-kernel local APIC: every vCPU is runnable (KVM's
// kvm_arch_vcpu_create), HLT exits to user space, and the other states, which only a
// local APIC leaves (INIT, SIPI, an in-kernel HLT), are refused with -EINVAL
// (kvm_arch_vcpu_ioctl_set_mpstate).
Errno Vcpu::get_mp_state(unsigned long arg)
{
	const kvm_mp_state s{KVM_MP_STATE_RUNNABLE};
	return dk_copy_to_user(arg, &s, sizeof(s)) ? -DK_EFAULT : 0;
}

Errno Vcpu::set_mp_state(unsigned long arg)
{
	kvm_mp_state s;
	if (dk_copy_from_user(&s, arg, sizeof(s)))
		return -DK_EFAULT;
	return s.mp_state == KVM_MP_STATE_RUNNABLE ? 0 : -DK_EINVAL;
}

events::Exception Vcpu::queued_exception()
{
	return events::from_arch(arch_->event(), payload_valid_, payload_);
}

void Vcpu::vcpu_events(bool payload_cap, kvm_vcpu_events *e)
{
	events::get(queued_exception(), arch_->interrupt_shadow(), nmi_masked_, payload_cap, e);
}

Errno Vcpu::get_vcpu_events(unsigned long arg)
{
	kvm_vcpu_events e;
	vcpu_events(vm_.exception_payload(), &e);
	return dk_copy_to_user(arg, &e, sizeof(e)) ? -DK_EFAULT : 0;
}

// KVM_SET_VCPU_EVENTS (core/vcpu_events.hpp has the rules). The exception replaces the
// queued one, unless it asks for what KVM_GET_VCPU_EVENTS' report of the queued one would
// (a VMM's save and restore): then the queued event stays as it is, with what the report
// leaves out (an ICEBP's instruction length, a software exception). A pending exception's payload
// is delivered now, to DR6 (#DB) or CR2 (#PF): dbgkvm delivers when it queues.
Errno Vcpu::write_vcpu_events(const kvm_vcpu_events &e)
{
	const bool cap = vm_.exception_payload();
	events::Exception want, now;
	if (!events::accept(e, cap, &want))
		return -DK_EINVAL;
	kvm_vcpu_events cur;
	vcpu_events(cap, &cur);
	if (!events::accept(cur, cap, &now) || !events::same(want, now)) {
		payload_valid_ = false;
		arch_->set_event({});
		if (want.pending && want.has_payload && want.vector == VEC_DB) {
			queue_db(want.payload);
		} else if (want.pending && want.has_payload && want.vector == VEC_PF) {
			queue_pf(want.payload, want.error);
		} else if (want.pending || want.injected) {
			arch_->set_event({events::hw_exception_info(want.vector, want.has_error),
					  want.error, want.injected});
			payload_valid_ = want.has_payload;
			payload_ = want.payload;
		}
	}
	if (e.flags & KVM_VCPUEVENT_VALID_SHADOW)
		arch_->set_interrupt_shadow(e.interrupt.shadow);
	nmi_masked_ = e.nmi.masked;
	return 0;
}

Errno Vcpu::set_vcpu_events(unsigned long arg)
{
	kvm_vcpu_events e;
	if (dk_copy_from_user(&e, arg, sizeof(e)))
		return -DK_EFAULT;
	return write_vcpu_events(e);
}

Errno Vcpu::ioctl(unsigned int cmd, unsigned long arg)
{
	if (!vm_.owner_is_current())
		return -DK_EIO;
	switch (cmd) {
	case KVM_RUN:
		if (arg)
			return -DK_EINVAL;
		return run();
	case KVM_GET_REGS:
		return get_regs(arg);
	case KVM_SET_REGS:
		return set_regs(arg);
	case KVM_GET_SREGS:
		return get_sregs(arg);
	case KVM_SET_SREGS:
		return set_sregs(arg);
	case KVM_SET_GUEST_DEBUG:
		return set_guest_debug(arg);
	case KVM_GET_DEBUGREGS:
		return get_debugregs(arg);
	case KVM_SET_DEBUGREGS:
		return set_debugregs(arg);
	case cpuidt::IOCTL_SET_CPUID2:
		return set_cpuid2(arg);
	case cpuidt::IOCTL_GET_CPUID2:
		return get_cpuid2(arg);
	case msr::IOCTL_GET_MSRS:
		return msrs_ioctl(arg, false);
	case msr::IOCTL_SET_MSRS:
		return msrs_ioctl(arg, true);
	case KVM_GET_FPU:
		return get_fpu(arg);
	case KVM_SET_FPU:
		return set_fpu(arg);
	case fpu::IOCTL_GET_XSAVE:
		return get_xsave(arg);
	case fpu::IOCTL_SET_XSAVE:
		return set_xsave(arg);
	case KVM_GET_XCRS:
		return get_xcrs(arg);
	case KVM_SET_XCRS:
		return set_xcrs(arg);
	case KVM_GET_VCPU_EVENTS:
		return get_vcpu_events(arg);
	case KVM_SET_VCPU_EVENTS:
		return set_vcpu_events(arg);
	case KVM_GET_MP_STATE:
		return get_mp_state(arg);
	case KVM_SET_MP_STATE:
		return set_mp_state(arg);
	case KVM_GET_TSC_KHZ: // the guest's TSC runs at the host's rate
		return static_cast<Errno>(dk_tsc_khz());
	default:
		return -DK_ENOTTY;
	}
}

} // namespace dbgkvm
