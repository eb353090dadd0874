// SPDX-License-Identifier: GPL-2.0
/* Memory for the C++ core: allocation, page pinning and user copies. */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
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

int dk_pin_user_page(unsigned long uaddr, int write, void **page, dk_u64 *pa)
{
	struct page *p;
	unsigned int flags = FOLL_LONGTERM | (write ? FOLL_WRITE : 0);
	int r = pin_user_pages_fast(uaddr & PAGE_MASK, 1, flags, &p);

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
