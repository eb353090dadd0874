// SPDX-License-Identifier: GPL-2.0
/*
 * coexist_test: dbgkvm next to Linux's own KVM in one machine. Only one hypervisor
 * can own the CPU's virtualization extensions (EFER.SVME / VMXON) at a time. dbgkvm
 * takes them when its first VM is created and gives them back after its last VM is
 * gone, so an idle kvm_amd/kvm_intel can be loaded beside it; whichever asks second
 * gets -EBUSY, and dbgkvm says why in exactly one kernel-log line.
 *
 * Runs with TARGET=dbgkvm: the runner puts Debian's KVM modules in the machine
 * (DBGKVM_KVM_MODULES, in load order) without loading them; the test loads them and
 * unloads them again at the end.
 */
#include "env.h"
#include "guest.h"
#include "kvm.h"
#include "tap.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sstream>
#include <string>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <vector>

using namespace kt;

GUEST_DECLARE(guest_count);

namespace
{

// dbgkvm's line when another hypervisor holds the extensions (both backends say it).
const char *const BUSY_LINE = "another hypervisor is using it";

std::vector<std::string> kvm_module_paths()
{
	std::vector<std::string> v;
	const char *e = getenv("DBGKVM_KVM_MODULES");
	std::istringstream in(e ? e : "");
	for (std::string p; in >> p;)
		v.push_back(p);
	return v;
}

std::string module_name(const std::string &path)
{
	std::string n = path.substr(path.rfind('/') + 1);
	n = n.substr(0, n.find('.'));
	for (char &c : n)
		if (c == '-')
			c = '_';
	return n;
}

bool kernel_is_612_or_later()
{
	utsname u;
	uname(&u);
	int maj = 0, min = 0;
	sscanf(u.release, "%d.%d", &maj, &min);
	return maj > 6 || (maj == 6 && min >= 12);
}

// Loads the reference modules; on 6.12, kvm.ko would take the extensions at load time
// unless told not to (enable_virt_at_load, new in 6.12).
struct KvmModules {
	std::vector<std::string> loaded;
	explicit KvmModules(bool virt_at_load)
	{
		for (const std::string &p : kvm_module_paths()) {
			std::string name = module_name(p);
			std::string params;
			if (name == "kvm" && kernel_is_612_or_later())
				params = virt_at_load ? "enable_virt_at_load=1"
						      : "enable_virt_at_load=0";
			int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
			CHECK_MSG(fd >= 0, "open %s: %s", p.c_str(), strerror(errno));
			long r = syscall(SYS_finit_module, fd, params.c_str(), 0);
			int err = errno;
			close(fd);
			CHECK_MSG(r == 0, "load %s: %s", name.c_str(), strerror(err));
			loaded.push_back(name);
		}
	}
	~KvmModules()
	{
		for (auto it = loaded.rbegin(); it != loaded.rend(); ++it)
			syscall(SYS_delete_module, it->c_str(), O_NONBLOCK);
	}
};

// KVM_CREATE_VM on Linux's KVM: the fd, or -errno.
int kvm_create_vm()
{
	int dev = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	CHECK_MSG(dev >= 0, "open /dev/kvm: %s", strerror(errno));
	int fd = ioctl(dev, KVM_CREATE_VM, 0);
	int err = errno;
	close(dev);
	return fd >= 0 ? fd : -err;
}

int count_in_kernel_log(const char *needle)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, nullptr, 0);
	CHECK_MSG(size > 0, "klogctl: %s", strerror(errno));
	std::string buf(size, '\0');
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf.data(), size);
	CHECK_MSG(n >= 0, "klogctl read: %s", strerror(errno));
	buf.resize(n);
	int count = 0;
	for (size_t pos = 0; (pos = buf.find(needle, pos)) != std::string::npos; pos++)
		count++;
	return count;
}

// KVM_CREATE_VM on dbgkvm, expected to fail: its errno, or 0 if a VM was created (and
// closed again).
int dbgkvm_create_vm_errno()
{
	int dev = open_dev();
	int r = ioctl(dev, KVM_CREATE_VM, 0);
	int err = r < 0 ? errno : 0;
	if (r >= 0)
		close(r);
	close(dev);
	return err;
}

void expect_guest_runs(Guest &g, uint64_t *next)
{
	for (int i = 0; i < 3; i++)
		CHECK_EQ(*next + i, g.vcpu.expect_out(PORT_REPORT, 4));
	*next += 3;
}

void skip_unless_dbgkvm_with_modules()
{
	if (!is_dbgkvm())
		SKIP("runs against dbgkvm: it loads the reference KVM beside it");
	if (kvm_module_paths().empty())
		SKIP("no reference KVM modules in this machine (DBGKVM_KVM_MODULES)");
}

} // namespace

TEST(idle_kvm_and_dbgkvm_take_turns)
{
	skip_unless_dbgkvm_with_modules();
	KvmModules kvm(false); // idle: nothing taken at load
	uint64_t next = 0;
	{
		// dbgkvm first: it owns the extensions while its VM exists.
		Guest g(Mode::Long64, GUEST(guest_count));
		expect_guest_runs(g, &next);
		// KVM's own errno for it: -EBUSY on 6.1, -EIO from 6.12 (its CPU hotplug
		// callback fails, kvm_enable_virtualization reports -EIO).
		int fd = kvm_create_vm();
		if (fd >= 0)
			close(fd);
		CHECK_MSG(fd == -EBUSY || fd == -EIO,
			  "KVM_CREATE_VM on /dev/kvm while a dbgkvm VM exists: %s",
			  fd >= 0 ? "succeeded" : strerror(-fd));
		expect_guest_runs(g, &next); // and dbgkvm's guest still runs
	}
	// dbgkvm's last VM is gone: KVM can have them now...
	int kfd = kvm_create_vm();
	CHECK_MSG(kfd >= 0, "KVM_CREATE_VM after dbgkvm's VM is gone: %s", strerror(-kfd));
	// ...and dbgkvm refuses, with one line saying why.
	int before = count_in_kernel_log(BUSY_LINE);
	int err = dbgkvm_create_vm_errno();
	int after = count_in_kernel_log(BUSY_LINE);
	close(kfd);
	CHECK_MSG(err == EBUSY, "dbgkvm KVM_CREATE_VM while KVM holds the CPU: %s",
		  err ? strerror(err) : "succeeded");
	CHECK_MSG(after - before == 1, "expected one '%s' line in the kernel log, got %d",
		  BUSY_LINE, after - before);
	// KVM's VM is gone: dbgkvm works again.
	Guest g(Mode::Long64, GUEST(guest_count));
	next = 0;
	expect_guest_runs(g, &next);
}

TEST(kvm_enabling_virtualization_at_load_makes_dbgkvm_busy)
{
	skip_unless_dbgkvm_with_modules();
	if (!kernel_is_612_or_later())
		SKIP("kvm.enable_virt_at_load exists from 6.12 on");
	KvmModules kvm(true); // KVM takes the extensions as it loads
	int err = dbgkvm_create_vm_errno();
	CHECK_MSG(err == EBUSY, "dbgkvm KVM_CREATE_VM with kvm loaded: %s",
		  err ? strerror(err) : "succeeded");
}
