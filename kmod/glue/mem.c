// SPDX-License-Identifier: GPL-2.0
/* Memory for the C++ core: allocation, page pinning and user copies. */
#include <linux/backing-dev.h>
#include <linux/capability.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <asm/io.h>
#include "dbgkvm_glue.h"

void *dk_zalloc(dk_size size)
{
	return kvzalloc(size, GFP_KERNEL_ACCOUNT);
}

void dk_free(void *p)
{
	kvfree(p);
}

void *dk_alloc_pages(unsigned int order, dk_u64 *pa)
{
	struct page *page = alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO, order);

	if (!page)
		return NULL;
	*pa = page_to_phys(page);
	return page_address(page);
}

void dk_free_pages(void *va, unsigned int order)
{
	if (va)
		free_pages((unsigned long)va, order);
}

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
/*
 * Before 6.5, FOLL_LONGTERM refuses only fsdax (check_vma_flags) and gladly pins the
 * page cache of a shared, writable file mapping on a filesystem that tracks dirty
 * pages: the filesystem writes the page back and cleans it while the guest still
 * writes to it through the pin (data loss, and BUG_ONs in ext4 and others). 6.5
 * refuses that itself (mm/gup.c writable_file_mapping_allowed: -EFAULT, also in
 * GUP-fast); this is the same rule, vma_needs_dirty_tracking() of 6.5+, for 6.1.
 * Anonymous memory, private file mappings (FOLL_WRITE breaks COW: the pin is an
 * anonymous copy), shmem/memfd and hugetlbfs (no page_mkwrite, no writeback) pass.
 */
static bool dk_longterm_write_unsafe(struct vm_area_struct *vma)
{
	const struct vm_operations_struct *ops = vma->vm_ops;

	if ((vma->vm_flags & (VM_SHARED | VM_WRITE)) != (VM_SHARED | VM_WRITE))
		return false;
	if (!vma->vm_file || (vma->vm_flags & VM_PFNMAP))
		return false;
	if (ops && (ops->page_mkwrite || ops->pfn_mkwrite))
		return true;
	return vma->vm_file->f_mapping && mapping_can_writeback(vma->vm_file->f_mapping);
}

/* The VMA check and the pin under one mmap_read_lock: the VMA cannot change between. */
static long dk_pin_one(unsigned long uaddr, unsigned int flags, struct page **p)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	long r;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma = vma_lookup(mm, uaddr);
	if (vma && (flags & FOLL_WRITE) && dk_longterm_write_unsafe(vma))
		r = -EFAULT; /* what 6.5+ returns for the same mapping */
	else
		r = pin_user_pages(uaddr, 1, flags, p, NULL);
	mmap_read_unlock(mm);
	return r;
}
#else
static long dk_pin_one(unsigned long uaddr, unsigned int flags, struct page **p)
{
	/* GUP refuses unsafe long-term pins of file mappings itself (see above). */
	return pin_user_pages_fast(uaddr, 1, flags, p);
}
#endif

int dk_pin_user_page(unsigned long uaddr, int write, void **page, dk_u64 *pa)
{
	struct page *p;
	unsigned int flags = FOLL_LONGTERM | (write ? FOLL_WRITE : 0);
	long r = dk_pin_one(uaddr & PAGE_MASK, flags, &p);

	if (r != 1)
		return r < 0 ? r : -EFAULT;
	*page = p;
	*pa = page_to_phys(p);
	return 0;
}

void dk_unpin_user_page(void *page, int dirty)
{
	struct page *p = page;

	unpin_user_pages_dirty_lock(&p, 1, dirty);
}

/*
 * Long-term pins are charged to the mm that owns the VM, in mm->pinned_vm (VmPin in
 * /proc/PID/status) and limited by RLIMIT_MEMLOCK unless the task has CAP_IPC_LOCK:
 * the rule of RDMA (ib_umem_get) and io_uring. Not account_locked_vm() (exported by
 * 6.1 and 6.12 alike): that charges mm->locked_vm, mlock()'s counter (VmLck), as VFIO
 * type1 does for historical reasons, and takes mmap_write_lock on every call, here on
 * every first touch of a guest page. Like those frameworks the charge always applies;
 * CAP_IPC_LOCK only lifts the limit. The limit is current's: pins are taken by
 * KVM_RUN, whose caller must be in the owner's mm (a thread of the owner). The
 * uncharge may run anywhere (the last fd closed in another process): mm is the
 * owner's, kept by dk_mm_grab_current() until after the VM's last unpin.
 */
int dk_pin_charge(void *mm, unsigned long pages)
{
	struct mm_struct *m = mm;
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	unsigned long pinned = atomic64_add_return(pages, &m->pinned_vm);

	if (pinned > limit && !capable(CAP_IPC_LOCK)) {
		atomic64_sub(pages, &m->pinned_vm);
		return -ENOMEM;
	}
	return 0;
}

void dk_pin_uncharge(void *mm, unsigned long pages)
{
	struct mm_struct *m = mm;

	WARN_ON_ONCE(atomic64_sub_return(pages, &m->pinned_vm) < 0);
}

int dk_copy_from_user(void *dst, unsigned long usrc, dk_size n)
{
	return copy_from_user(dst, (const void __user *)usrc, n) ? -EFAULT : 0;
}

int dk_get_user_u64(unsigned long usrc, dk_u64 *val)
{
	return get_user(*val, (const u64 __user *)usrc) ? -EFAULT : 0;
}

int dk_copy_to_user(unsigned long udst, const void *src, dk_size n)
{
	return copy_to_user((void __user *)udst, src, n) ? -EFAULT : 0;
}

/*
 * __try_cmpxchg_user (KVM's way to set a guest page-table entry's accessed and dirty
 * flags) opens and closes the user access itself and defines the fault label: 0 done,
 * 1 the value differed, -EFAULT. The slot's address passed access_ok when it was set;
 * checked again here, as this is the only check on the way.
 */
int dk_cmpxchg_user(unsigned long uaddr, dk_u64 old, dk_u64 val, unsigned int size)
{
	if (size == 4) {
		u32 __user *p = (u32 __user *)uaddr;
		u32 o = (u32)old;

		if (!access_ok(p, sizeof(*p)))
			return -EFAULT;
		return __try_cmpxchg_user(p, &o, (u32)val, efault32);
	} else {
		u64 __user *p = (u64 __user *)uaddr;
		u64 o = old;

		if (!access_ok(p, sizeof(*p)))
			return -EFAULT;
		return __try_cmpxchg_user(p, &o, val, efault64);
	}
}

dk_u64 dk_page_pa(void *page)
{
	return page_to_phys((struct page *)page);
}

int dk_access_ok(unsigned long uaddr, dk_size size)
{
	return access_ok((void __user *)uaddr, size);
}

void *dk_phys_to_virt(dk_u64 pa)
{
	return phys_to_virt(pa);
}

void *dk_mm_grab_current(void)
{
	mmgrab(current->mm);
	return current->mm;
}

void dk_mm_drop(void *mm)
{
	mmdrop((struct mm_struct *)mm);
}

int dk_mm_is_current(void *mm)
{
	return current->mm == mm;
}
