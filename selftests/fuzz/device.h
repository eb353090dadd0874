/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer's own thin layer over the KVM fds. It does not use kt::Vm/kt::Vcpu: those
 * fail the test on any error and follow one device, while the fuzzer wants every errno
 * back and, in the differential test, two devices (/dev/dbgkvm and /dev/kvm) in one
 * process. The guest memory layout and the mode setup are lib/guest.h's.
 */
#ifndef SELFTESTS_FUZZ_DEVICE_H
#define SELFTESTS_FUZZ_DEVICE_H

#include "ctx.h"
#include "guest.h"

#include <cstdint>
#include <linux/kvm.h>
#include <string>
#include <vector>

namespace fz
{

struct Device {
	std::string path;
	bool kvm = false;	    /* Linux's KVM (the reference) rather than dbgkvm */
	int fd = -1;		    /* the system fd */
	long run_size = 0;	    /* KVM_GET_VCPU_MMAP_SIZE */
	uint32_t dbg_mask = 0;	    /* KVM_CAP_SET_GUEST_DEBUG2: the valid control flags */
	long max_vcpus = 0;	    /* KVM_CAP_MAX_VCPUS */
	long max_vcpu_id = 0;	    /* KVM_CAP_MAX_VCPU_ID */
	long nr_memslots = 0;	    /* KVM_CAP_NR_MEMSLOTS */
	std::vector<uint8_t> cpuid; /* KVM_GET_SUPPORTED_CPUID (C layout), empty on dbgkvm */

	/* Opens `path` (SKIPs the test if it is missing). */
	Device(const std::string &path, bool kvm);
	~Device();
	Device(const Device &) = delete;
	Device &operator=(const Device &) = delete;
};

/* The device of this run: kt::dev_path(), dbgkvm or KVM as kt::target() says. */
Device &main_device();

/* KVM_SET_CPUID2 with the device's supported CPUID (KVM only; what every VMM does). */
long set_cpuid(Ctx &c, const Device &d, int vcpu_fd);

/*
 * One VM with slot 0 (GUEST_MEM_SIZE at GPA 0 over `mem`) and one vCPU with its kvm_run
 * mapping. Every fd is closed and the mapping removed by close_all(), in an order the
 * caller may choose itself by closing them first (fields set to -1 / nullptr).
 */
struct Box {
	Device &dev;
	uint8_t *mem; /* GUEST_MEM_SIZE bytes, owned by the caller */
	int vm = -1;
	int vcpu = -1;
	kvm_run *run = nullptr;

	Box(Device &d, uint8_t *m) : dev(d), mem(m) {}
	~Box() { close_all(); }
	Box(const Box &) = delete;
	Box &operator=(const Box &) = delete;

	/* KVM_CREATE_VM, slot 0, KVM_CREATE_VCPU id, CPUID, mmap; fails the test on error. */
	void create(Ctx &c, unsigned vcpu_id = 0);
	/* GDT (and page tables), code at CODE_GPA, sregs and regs for mode `m`. */
	void setup_mode(Ctx &c, kt::Mode m, const uint8_t *code, size_t len);
	void close_all();
};

/* Host memory for a Box (anonymous, zeroed), reused across iterations; freed at exit. */
uint8_t *guest_memory(unsigned index = 0);

/* The errno name, or "0". */
std::string err_name(int e);

} // namespace fz

#endif
