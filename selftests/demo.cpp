// SPDX-License-Identifier: GPL-2.0
/*
 * demo: a walkthrough for humans (not TAP). Creates a VM with one vCPU on
 * DBGKVM_DEV, runs a small 64-bit guest (guest/demo.S) and says what happens
 * at each exit. `scripts/vmtest.sh --demo` runs only this.
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "tap.h"

#include <cstdio>
#include <cstring>
#include <sys/ioctl.h>

using namespace kt;

GUEST_DECLARE(guest_demo);

static int demo()
{
	printf("dbgkvm demo: device %s (target %s%s%s)\n", dev_path().c_str(), target().c_str(),
	       machine().empty() ? "" : ", machine ", machine().c_str());
	Vm vm;
	printf("  KVM_GET_API_VERSION = %ld, vCPU mmap size %zu bytes\n",
	       (long)ioctl(vm.dev_fd(), KVM_GET_API_VERSION, 0), vm.run_size());
	Vcpu vcpu(vm, 0);
	setup_guest(vm, vcpu, Mode::Long64, GUEST(guest_demo));
	printf("  created a VM with 2 MiB of memory and vCPU 0 in 64-bit long mode\n");
	printf("  (identity-mapped page tables, flat GDT); %zu bytes of guest code at 0x%x\n",
	       GUEST(guest_demo).size(), CODE_GPA);

	for (int n = 1; n <= 20; n++) {
		uint32_t reason = vcpu.enter();
		kvm_run *run = vcpu.run();
		uint64_t rip = vcpu.rip();
		printf("exit %d: ", n);
		switch (reason) {
		case KVM_EXIT_IO: {
			uint32_t v = 0;
			memcpy(&v, reinterpret_cast<uint8_t *>(run) + run->io.data_offset,
			       run->io.size);
			if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PORT_REPORT)
				printf("the guest reported %u with OUT to port 0x%x\n", v,
				       run->io.port);
			else if (run->io.direction == KVM_EXIT_IO_OUT)
				printf("the guest wrote %u byte(s) 0x%x ('%c') to port 0x%x\n",
				       run->io.size, v, v >= 32 && v < 127 ? v : '.', run->io.port);
			else
				printf("the guest read port 0x%x\n", run->io.port);
			break;
		}
		case KVM_EXIT_MMIO: {
			uint64_t v = 0;
			memcpy(&v, run->mmio.data, run->mmio.len);
			if (run->mmio.is_write) {
				printf("the guest wrote 0x%llx (%u bytes) to address 0x%llx, where "
				       "there is no memory: MMIO\n",
				       (unsigned long long)v, run->mmio.len,
				       (unsigned long long)run->mmio.phys_addr);
			} else {
				uint64_t answer = 41;
				memcpy(run->mmio.data, &answer, run->mmio.len);
				printf("the guest read %u bytes at 0x%llx (MMIO); we answer %llu, "
				       "KVM puts it in the guest's register\n",
				       run->mmio.len, (unsigned long long)run->mmio.phys_addr,
				       (unsigned long long)answer);
			}
			break;
		}
		case KVM_EXIT_HLT:
			printf("the guest executed HLT at 0x%llx: it is done\n",
			       (unsigned long long)rip - 1);
			printf("demo finished after %d exits\n", n);
			return 0;
		default:
			printf("unexpected %s\n", vcpu.describe_exit().c_str());
			return 1;
		}
	}
	printf("the guest did not halt\n");
	return 1;
}

int main()
{
	try {
		return demo();
	} catch (const tap::Failure &f) {
		printf("demo failed: %s\n", f.msg.c_str());
	} catch (const tap::Skipped &s) {
		printf("demo skipped: %s\n", s.reason.c_str());
	}
	return 1;
}
