// SPDX-License-Identifier: GPL-2.0
/*
 * reboot_test: the machine powers off while a vCPU is inside KVM_RUN (issue 8: kexec,
 * reboot and power-off with VMs open). The reboot notifier must stop the vCPU (KVM_RUN
 * returns an error at its next exit), wait for it, and take every CPU out of VMX/SVM
 * operation, with no oops, WARNING or hang on the way down.
 *
 * This program does not come back: its last act is reboot(RB_POWER_OFF). It is not in
 * the normal test list; scripts/reboot-check.sh runs it as the only test of a machine and
 * reads the console: the notifier's line, the kernel's "Power down", and no complaint.
 */
#include "debug.h"
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "tap.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/reboot.h>
#include <thread>
#include <unistd.h>

using namespace kt;

GUEST_DECLARE(guest_reboot);
GUEST_LABEL_DECLARE(rb_spin);

TEST(poweroff_with_a_vcpu_in_kvm_run)
{
	DebugGuest g(GUEST(guest_reboot));
	g.start_at(GUEST_GPA(guest_reboot, rb_spin));
	const int fd = g.vcpu.fd();
	std::thread spinner([fd] {
		long r = ioctl(fd, KVM_RUN, 0);
		// Reached only if power-off stops the vCPU before user space is gone.
		dprintf(1, "# reboot_test: KVM_RUN returned %ld (errno %d)\n", r, r ? errno : 0);
	});
	sleep(1);		// the vCPU is in the guest now
	klogctl(8, nullptr, 8); // SYSLOG_ACTION_CONSOLE_LEVEL: every kernel line to the console
	// Straight to the console (fd 1 of a test is the machine's console; the
	// harness's TAP pipe dies with the machine).
	dprintf(1, "# reboot_test: powering off with a vCPU in KVM_RUN\n");
	sync();
	reboot(RB_POWER_OFF);
	CHECK_MSG(false, "reboot(RB_POWER_OFF) returned: %s", strerror(errno));
	spinner.join();
}
