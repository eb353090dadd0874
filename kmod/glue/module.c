// SPDX-License-Identifier: GPL-2.0
/* Module init/exit and the /dev/dbgkvm misc device. */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/compat.h>
#include "dbgkvm_glue.h"
#include "glue_internal.h"

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

static struct miscdevice dbgkvm_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "dbgkvm",
	.fops = &dev_fops,
	.mode = 0666,
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
