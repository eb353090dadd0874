/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Argument generators for the KVM ioctls, and the model that says what KVM's ABI
 * answers to each: bad pointers of every kind, unknown ioctl numbers, memory regions
 * (aligned or not, overlapping, beyond the limits, reserved flags, slot ids in other
 * address spaces) with a model of the VM's slots, and KVM_SET_SREGS states that
 * kvm_is_valid_sregs() must reject.
 */
#ifndef SELFTESTS_FUZZ_IOCTL_GEN_H
#define SELFTESTS_FUZZ_IOCTL_GEN_H

#include "device.h"
#include "rng.h"

#include <cstdint>
#include <linux/kvm.h>
#include <map>
#include <string>

/* Not in Debian 12's <linux/kvm.h> (uapi 6.1). */
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif

namespace fz
{

/*
 * A pointer no ioctl can copy `size` bytes through: NULL, a kernel address, a PROT_NONE
 * page, a non-canonical or unmapped address, a buffer that runs into a PROT_NONE page,
 * and, when the kernel writes to it (`written`), a read-only page.
 */
void *bad_pointer(Rng &r, size_t size, bool written, const char **kind);

/* An ioctl number no KVM fd knows: KVMIO numbers x86 KVM leaves free, foreign types. */
unsigned long unknown_ioctl(Rng &r);

/* Real KVM vCPU/VM/system ioctls dbgkvm does not implement (read-only ones only). */
struct Unimplemented {
	unsigned long req;
	const char *name;
	int fd_kind; /* 0 system, 1 VM, 2 vCPU */
	size_t size; /* the buffer it writes */
};
const Unimplemented &unimplemented_ioctl(Rng &r);

/* What a call may answer: success and/or a set of errnos. */
struct Expect {
	bool ok = false;
	int errs[3] = {0, 0, 0};
	const char *rule = "";
	bool allows(long ret, int err) const;
	std::string describe() const;
	static Expect success(const char *rule)
	{
		Expect e;
		e.ok = true;
		e.rule = rule;
		return e;
	}
	static Expect error(int e1, const char *rule)
	{
		Expect e;
		e.errs[0] = e1;
		e.rule = rule;
		return e;
	}
	static Expect either(int e1, const char *rule)
	{
		Expect e = error(e1, rule);
		e.ok = true;
		return e;
	}
};

/* A host address range slots can point into: RW pages, then PROT_NONE pages. */
struct HostPool {
	uint8_t *base;
	size_t pages; /* RW */
	static HostPool &get();
};

/* The VM's memory slots as KVM's __kvm_set_memory_region() sees them. */
class SlotModel
{
public:
	explicit SlotModel(const Device &d);
	/* Draws a call from `r` alone (never from the model's state), so that two devices
	 * given the same stream get the same calls. */
	kvm_userspace_memory_region generate(Rng &r) const;
	/* The host address, in words that are the same in every process ("pool+3p", ...). */
	std::string uaddr_kind(uint64_t uaddr) const;
	Expect expect(const kvm_userspace_memory_region &m) const;
	/* Records the call's effect (after a success). */
	void apply(const kvm_userspace_memory_region &m);
	size_t count() const { return slots_.size(); }

private:
	const Device &d_;
	unsigned address_spaces_;
	unsigned phys_bits_ = 0;
	std::map<uint32_t, kvm_userspace_memory_region> slots_;
	bool overlaps(const kvm_userspace_memory_region &m) const;
	Expect expect_rest(const kvm_userspace_memory_region &m) const;
};

/* KVM_SET_SREGS input: a valid mode (0), or one that must be rejected (1). */
struct SregsCase {
	kvm_sregs s;
	bool must_fail;
	const char *what;
};
SregsCase random_sregs(Rng &r, const kvm_sregs &current);

} // namespace fz

#endif
