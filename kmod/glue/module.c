// SPDX-License-Identifier: GPL-2.0
/* Module init/exit and the /dev/dbgkvm misc device. */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/compat.h>
#include "dbgkvm_glue.h"
#include "glue_internal.h"

bool dbgkvm_knob_no_reload_on_load;
module_param_named(no_reload_on_load, dbgkvm_knob_no_reload_on_load, bool, 0444);
MODULE_PARM_DESC(no_reload_on_load,
		 "fault injection: do not reload debug registers after vcpu_load (the 2016 bug)");
bool dbgkvm_knob_svm_clobber_guest_dr6;
module_param_named(svm_clobber_guest_dr6, dbgkvm_knob_svm_clobber_guest_dr6, bool, 0444);
MODULE_PARM_DESC(svm_clobber_guest_dr6,
		 "fault injection: SVM debug exits clobber the guest's DR6 (the 2020 bug)");
bool dbgkvm_knob_skip_code_bp_check;
module_param_named(skip_code_bp_check, dbgkvm_knob_skip_code_bp_check, bool, 0444);
MODULE_PARM_DESC(skip_code_bp_check,
		 "fault injection: no code-breakpoint check before emulation (the 2013 bug)");
bool dbgkvm_knob_single_cause_on_coincident;
module_param_named(single_cause_on_coincident, dbgkvm_knob_single_cause_on_coincident, bool, 0444);
MODULE_PARM_DESC(
    single_cause_on_coincident,
    "fault injection: a single-step trap hides a coincident code breakpoint (the 2025 bug)");

static void warn_knobs(void)
{
	if (dbgkvm_knob_no_reload_on_load)
		pr_warn("dbgkvm: fault injection on: no_reload_on_load (missed hardware "
			"breakpoints)\n");
	if (dbgkvm_knob_svm_clobber_guest_dr6)
		pr_warn(
		    "dbgkvm: fault injection on: svm_clobber_guest_dr6 (guest DR6 clobbered)\n");
	if (dbgkvm_knob_skip_code_bp_check)
		pr_warn(
		    "dbgkvm: fault injection on: skip_code_bp_check (no code #DB in emulation)\n");
	if (dbgkvm_knob_single_cause_on_coincident)
		pr_warn("dbgkvm: fault injection on: single_cause_on_coincident (BS without Bn)\n");
}

static long dev_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	return dbgkvm_dev_ioctl(cmd, arg);
}

static const struct file_operations dev_fops = {
    .owner = THIS_MODULE,
    .unlocked_ioctl = dev_ioctl,
    .compat_ioctl = compat_ptr_ioctl,
    .llseek = noop_llseek,
};

/*
 * No .mode: the node is root-only (0600) until udev applies
 * packaging/udev/65-dbgkvm.rules (group kvm, 0660), the /dev/kvm convention.
 */
static struct miscdevice dbgkvm_dev = {
    .minor = MISC_DYNAMIC_MINOR,
    .name = "dbgkvm",
    .fops = &dev_fops,
};

static int __init dbgkvm_init(void)
{
	int r;

	r = dk_glue_init();
	if (r)
		return r;
	r = dbgkvm_core_init();
	if (r)
		goto out_glue;
	r = misc_register(&dbgkvm_dev);
	if (r) {
		pr_warn("dbgkvm: cannot register /dev/dbgkvm: %d\n", r);
		goto out_core;
	}
	warn_knobs();
	pr_info("dbgkvm: loaded, /dev/dbgkvm ready\n");
	return 0;

out_core:
	dbgkvm_core_exit();
out_glue:
	dk_glue_exit();
	return r;
}

/*
 * Every VM and vCPU fd holds a module reference (fops.owner), so exit runs only once
 * all of them are closed: no VM can outlive the module.
 */
static void __exit dbgkvm_exit(void)
{
	misc_deregister(&dbgkvm_dev);
	dbgkvm_core_exit();
	dk_glue_exit();
	pr_info("dbgkvm: unloaded\n");
}

module_init(dbgkvm_init);
module_exit(dbgkvm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("dbgkvm: a debug-register-aware mini-KVM");
