// SPDX-License-Identifier: GPL-2.0
#include "env.h"

#include <cstdlib>
#include <sys/stat.h>

namespace kt
{

static std::string getenv_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

const std::string &dev_path()
{
	static const std::string v = getenv_or("DBGKVM_DEV", "/dev/dbgkvm");
	return v;
}

const std::string &target()
{
	/* Without DBGKVM_TARGET, guess from the path: only /dev/kvm is Linux's KVM. */
	static const std::string v =
	    getenv_or("DBGKVM_TARGET", dev_path() == "/dev/kvm" ? "kvm" : "dbgkvm");
	return v;
}

const std::string &machine()
{
	static const std::string v = getenv_or("DBGKVM_VM", "");
	return v;
}

bool is_kvm()
{
	return target() == "kvm";
}

bool is_dbgkvm()
{
	return !is_kvm();
}

bool is_vmx()
{
	return machine().find("vmx") != std::string::npos;
}

bool is_svm()
{
	return machine().find("svm") != std::string::npos;
}

bool is_pvm_host()
{
	struct stat st;
	return is_kvm() && stat("/sys/module/kvm_pvm", &st) == 0;
}

} // namespace kt
