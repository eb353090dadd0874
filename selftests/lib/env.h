/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the runner tells the tests (scripts/vmtest.sh sets these):
 *   DBGKVM_DEV     device path, default /dev/dbgkvm
 *   DBGKVM_TARGET  dbgkvm | kvm: which implementation is behind DBGKVM_DEV
 *   DBGKVM_VM      qemu-svm | bochs-vmx (empty on a bare host)
 */
#ifndef SELFTESTS_LIB_ENV_H
#define SELFTESTS_LIB_ENV_H

#include <string>

namespace kt
{

const std::string &dev_path();
const std::string &target();  /* "dbgkvm" or "kvm" */
const std::string &machine(); /* "qemu-svm", "bochs-vmx" or "" */
bool is_kvm();		      /* the reference: Linux's own KVM */
bool is_dbgkvm();
bool is_vmx(); /* machine says VMX (Bochs) */
bool is_svm();
/*
 * Linux's KVM with the PVM backend (kvm_pvm: paravirtual, no VMRUN/VMLAUNCH),
 * as on the development hosts. Tests whose KVM semantics come from hardware
 * virtualization SKIP there, saying so; the emulated machines run them.
 */
bool is_pvm_host();

} // namespace kt

#endif
