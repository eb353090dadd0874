// SPDX-License-Identifier: GPL-2.0
#include "core/vcpu_events.hpp"

#include "rt/x86_defs.hpp"

namespace dbgkvm::events
{

Exception from_arch(const ArchEvent &a, bool has_payload, u64 payload)
{
	Exception ex{};
	if (!(a.info & INFO_VALID))
		return ex;
	const u32 type = (a.info & TYPE_MASK) >> TYPE_SHIFT;
	const u8 vector = a.info & 0xff;
	const bool soft = vector == x86::VEC_BP || vector == x86::VEC_OF;
	const bool icebp = type == TYPE_PRIV_SW_EXCEPTION && vector == x86::VEC_DB;
	if (!(type == TYPE_HW_EXCEPTION && !soft) && !icebp)
		return ex;
	ex.injected = a.reinjected;
	ex.pending = !a.reinjected;
	ex.vector = vector;
	ex.has_error = a.info & INFO_ERROR_VALID;
	ex.error = ex.has_error ? a.error : 0;
	ex.has_payload = ex.pending && has_payload;
	ex.payload = ex.has_payload ? payload : 0;
	return ex;
}

Exception reported(const Exception &ex, bool payload_cap)
{
	Exception r = ex;
	if (!payload_cap) {
		// kvm_vcpu_ioctl_x86_get_vcpu_events: the payload is delivered first, then
		// a pending exception is also reported as injected "for ABI compatibility"
		// (pending stays set; KVM_SET_VCPU_EVENTS ignores it without the cap).
		r.injected = ex.injected || ex.pending;
		r.has_payload = false;
		r.payload = 0;
	}
	return r;
}

void get(const Exception &ex, u8 shadow, bool nmi_masked, bool payload_cap, kvm_vcpu_events *out)
{
	const Exception r = reported(ex, payload_cap);
	*out = kvm_vcpu_events{};
	out->exception.injected = r.injected;
	out->exception.pending = r.pending;
	out->exception.nr = r.vector;
	out->exception.has_error_code = r.has_error;
	out->exception.error_code = r.error;
	out->exception_has_payload = r.has_payload;
	out->exception_payload = r.payload;
	out->interrupt.shadow = shadow;
	out->nmi.masked = nmi_masked;
	out->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW |
		     KVM_VCPUEVENT_VALID_SMM | (payload_cap ? KVM_VCPUEVENT_VALID_PAYLOAD : 0);
}

bool accept(const kvm_vcpu_events &in, bool payload_cap, Exception *ex)
{
	constexpr u32 KNOWN = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
			      KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM |
			      KVM_VCPUEVENT_VALID_PAYLOAD | KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
	if (in.flags & ~KNOWN)
		return false;
	Exception e{};
	e.injected = in.exception.injected;
	e.pending = in.exception.pending;
	e.has_payload = in.exception_has_payload;
	if (in.flags & KVM_VCPUEVENT_VALID_PAYLOAD) {
		if (!payload_cap)
			return false;
		if (e.pending)
			e.injected = false;
		else
			e.has_payload = false;
	} else {
		e.pending = false;
		e.has_payload = false;
	}
	const bool any = e.injected || e.pending;
	if (any && (in.exception.nr > 31 || in.exception.nr == x86::VEC_NMI))
		return false;
	if (any && bool(in.exception.has_error_code) != has_error_code(in.exception.nr))
		return false;
	if (in.interrupt.injected || in.nmi.injected)
		return false;
	if ((in.flags & KVM_VCPUEVENT_VALID_NMI_PENDING) && in.nmi.pending)
		return false;
	if ((in.flags & KVM_VCPUEVENT_VALID_SMM) &&
	    (in.smi.smm || in.smi.pending || in.smi.smm_inside_nmi))
		return false;
	if (in.flags & KVM_VCPUEVENT_VALID_TRIPLE_FAULT)
		return false;
	if (any) {
		e.vector = in.exception.nr;
		e.has_error = in.exception.has_error_code;
		e.error = e.has_error ? in.exception.error_code : 0;
		e.payload = e.has_payload ? in.exception_payload : 0;
	} else {
		e.has_payload = false;
	}
	*ex = e;
	return true;
}

bool same(const Exception &a, const Exception &b)
{
	if (a.injected != b.injected || a.pending != b.pending)
		return false;
	if (!a.injected && !a.pending)
		return true;
	return a.vector == b.vector && a.has_error == b.has_error && a.error == b.error &&
	       a.has_payload == b.has_payload && a.payload == b.payload;
}

} // namespace dbgkvm::events
