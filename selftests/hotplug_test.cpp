// SPDX-License-Identifier: GPL-2.0
/*
 * hotplug_test: CPU hotplug while VMs exist. Virtualization is switched on per CPU
 * (EFER.SVME / VMXON) when the first VM is created; a CPU that comes online later must
 * get it too before a vCPU runs there, and one that goes offline must give it up
 * cleanly. KVM does the same through its own hotplug callbacks (kvm_online_cpu).
 *
 * Needs a second CPU that can go offline (the test machines have two); skipped
 * elsewhere. Every test puts the CPU back online.
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "sys.h"
#include "tap.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <string>
#include <unistd.h>

using namespace kt;

GUEST_DECLARE(guest_count);

namespace
{

const char *const CPU1_ONLINE = "/sys/devices/system/cpu/cpu1/online";

bool cpu1_can_go_offline()
{
	return access(CPU1_ONLINE, W_OK) == 0 && sysconf(_SC_NPROCESSORS_CONF) >= 2;
}

void set_cpu1_online(bool on)
{
	int fd = open(CPU1_ONLINE, O_WRONLY | O_CLOEXEC);
	CHECK_MSG(fd >= 0, "open %s: %s", CPU1_ONLINE, strerror(errno));
	ssize_t n = write(fd, on ? "1" : "0", 1);
	int err = errno;
	close(fd);
	CHECK_MSG(n == 1, "cpu1 %s: %s", on ? "online" : "offline", strerror(err));
}

// Puts CPU 1 back online whatever happens to the test.
struct Cpu1Restorer {
	~Cpu1Restorer()
	{
		int fd = open(CPU1_ONLINE, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "1", 1) < 0) {
				/* already online, or nothing more to do */
			}
			close(fd);
		}
	}
};

void pin_to(int cpu)
{
	CHECK_MSG(pin_to_cpu(cpu), "pin to CPU %d: %s", cpu, strerror(errno));
}

// The guest reports 0, 1, 2, ...: run `n` exits and check the sequence goes on.
void run_reports(Vcpu &vcpu, uint64_t *next, int n)
{
	for (int i = 0; i < n; i++)
		CHECK_EQ(*next + i, vcpu.expect_out(PORT_REPORT, 4));
	*next += n;
}

} // namespace

TEST(vcpu_runs_across_cpu_offline_and_online)
{
	if (!cpu1_can_go_offline())
		SKIP("no CPU 1 that can go offline here");
	Cpu1Restorer restore;
	Guest g(Mode::Long64, GUEST(guest_count));
	uint64_t next = 0;
	pin_to(1);
	run_reports(g.vcpu, &next, 20);
	unpin();
	set_cpu1_online(false); // the vCPU's last CPU goes away while the VM exists
	pin_to(0);
	run_reports(g.vcpu, &next, 20);
	unpin();
	set_cpu1_online(true);
	pin_to(1); // virtualization must be on again there
	run_reports(g.vcpu, &next, 20);
	unpin();
}

TEST(cpu_online_after_vm_creation_gets_virtualization)
{
	if (!cpu1_can_go_offline())
		SKIP("no CPU 1 that can go offline here");
	Cpu1Restorer restore;
	set_cpu1_online(false);
	Guest g(Mode::Long64, GUEST(guest_count)); // created with CPU 1 offline
	uint64_t next = 0;
	pin_to(0);
	run_reports(g.vcpu, &next, 10);
	unpin();
	set_cpu1_online(true);
	pin_to(1);
	run_reports(g.vcpu, &next, 10);
	unpin();
}

TEST(cpu_offline_and_online_without_vms)
{
	// With no VM, nothing holds virtualization: hotplug must not touch it, and a VM
	// created afterwards runs on both CPUs.
	if (!cpu1_can_go_offline())
		SKIP("no CPU 1 that can go offline here");
	Cpu1Restorer restore;
	set_cpu1_online(false);
	set_cpu1_online(true);
	Guest g(Mode::Long64, GUEST(guest_count));
	uint64_t next = 0;
	for (int cpu : {0, 1, 0, 1}) {
		pin_to(cpu);
		run_reports(g.vcpu, &next, 5);
	}
	unpin();
}
