// SPDX-License-Identifier: GPL-2.0
/*
 * VM and vCPU file descriptors (anon inodes). The vCPU fd serialises its ioctls on a
 * mutex (a second KVM_RUN on the same vCPU waits, as in KVM) and brackets each one with
 * vcpu_load/vcpu_put, plus a preempt notifier so a preempted vCPU thread is put on
 * sched_out and loaded again on sched_in (on whichever CPU it lands).
 */
#include <linux/anon_inodes.h>
#include <linux/compat.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include "dbgkvm_glue.h"
#include "glue_internal.h"

struct dk_vcpu_file {
	struct mutex lock;
	struct preempt_notifier pn;
	void *vcpu;
};

static long vm_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	long r = dk_virt_user_enter(); /* -EIO once the machine reboots (glue/cpu.c) */

	if (r)
		return r;
	r = dbgkvm_vm_ioctl(f->private_data, cmd, arg);
	dk_virt_user_exit();
	return r;
}

static int vm_release(struct inode *inode, struct file *f)
{
	dbgkvm_vm_release(f->private_data);
	return 0;
}

static const struct file_operations vm_fops = {
    .owner = THIS_MODULE,
    .unlocked_ioctl = vm_ioctl,
    .compat_ioctl = compat_ptr_ioctl,
    .release = vm_release,
    .llseek = noop_llseek,
};

int dk_vm_fd_create(void *vm)
{
	return anon_inode_getfd("dbgkvm-vm", &vm_fops, vm, O_RDWR | O_CLOEXEC);
}

static inline struct dk_vcpu_file *pn_to_vf(struct preempt_notifier *pn)
{
	return container_of(pn, struct dk_vcpu_file, pn);
}

static void vcpu_sched_in(struct preempt_notifier *pn, int cpu)
{
	dbgkvm_vcpu_load(pn_to_vf(pn)->vcpu, cpu);
}

static void vcpu_sched_out(struct preempt_notifier *pn, struct task_struct *next)
{
	dbgkvm_vcpu_put(pn_to_vf(pn)->vcpu);
}

static struct preempt_ops vcpu_preempt_ops = {
    .sched_in = vcpu_sched_in,
    .sched_out = vcpu_sched_out,
};

static long vcpu_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct dk_vcpu_file *vf = f->private_data;
	long r;
	int cpu;

	r = dk_virt_user_enter(); /* -EIO once the machine reboots (glue/cpu.c) */
	if (r)
		return r;
	if (mutex_lock_killable(&vf->lock)) {
		dk_virt_user_exit();
		return -EINTR;
	}
	cpu = get_cpu();
	preempt_notifier_register(&vf->pn);
	dbgkvm_vcpu_load(vf->vcpu, cpu);
	put_cpu();

	r = dbgkvm_vcpu_ioctl(vf->vcpu, cmd, arg);

	preempt_disable();
	dbgkvm_vcpu_put(vf->vcpu);
	preempt_notifier_unregister(&vf->pn);
	preempt_enable();
	mutex_unlock(&vf->lock);
	dk_virt_user_exit();
	return r;
}

static int vcpu_mmap(struct file *f, struct vm_area_struct *vma)
{
	struct dk_vcpu_file *vf = f->private_data;
	unsigned long i, n = vma_pages(vma);
	int r;

	for (i = 0; i < n; i++) {
		void *page = dbgkvm_vcpu_mmap_page(vf->vcpu, vma->vm_pgoff + i);

		if (!page)
			return -EINVAL;
		r = vm_insert_page(vma, vma->vm_start + i * PAGE_SIZE, virt_to_page(page));
		if (r)
			return r;
	}
	return 0;
}

static int vcpu_release(struct inode *inode, struct file *f)
{
	struct dk_vcpu_file *vf = f->private_data;

	dbgkvm_vcpu_release(vf->vcpu);
	kfree(vf);
	return 0;
}

static const struct file_operations vcpu_fops = {
    .owner = THIS_MODULE,
    .unlocked_ioctl = vcpu_ioctl,
    .compat_ioctl = compat_ptr_ioctl,
    .mmap = vcpu_mmap,
    .release = vcpu_release,
    .llseek = noop_llseek,
};

int dk_vcpu_fd_create(void *vcpu)
{
	struct dk_vcpu_file *vf = kzalloc(sizeof(*vf), GFP_KERNEL_ACCOUNT);
	int fd;

	if (!vf)
		return -ENOMEM;
	mutex_init(&vf->lock);
	preempt_notifier_init(&vf->pn, &vcpu_preempt_ops);
	vf->vcpu = vcpu;
	fd = anon_inode_getfd("dbgkvm-vcpu", &vcpu_fops, vf, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		kfree(vf);
	return fd;
}
