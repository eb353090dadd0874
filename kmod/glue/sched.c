// SPDX-License-Identifier: GPL-2.0
/* Scheduling, interrupts, signals and locks for the C++ core. */
#include <linux/irqflags.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include "dbgkvm_glue.h"

struct dk_mutex {
	struct mutex m;
};

struct dk_rwsem {
	struct rw_semaphore s;
};

unsigned int dk_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

int dk_cpu(void)
{
	return smp_processor_id();
}

void dk_preempt_disable(void)
{
	preempt_disable();
}

void dk_preempt_enable(void)
{
	preempt_enable();
}

void dk_irq_disable(void)
{
	local_irq_disable();
}

void dk_irq_enable(void)
{
	local_irq_enable();
}

int dk_signal_pending(void)
{
	return signal_pending(current);
}

void dk_cond_resched(void)
{
	cond_resched();
}

struct dk_mutex *dk_mutex_new(void)
{
	struct dk_mutex *m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);

	if (m)
		mutex_init(&m->m);
	return m;
}

void dk_mutex_delete(struct dk_mutex *m)
{
	kfree(m);
}

void dk_mutex_lock(struct dk_mutex *m)
{
	mutex_lock(&m->m);
}

void dk_mutex_unlock(struct dk_mutex *m)
{
	mutex_unlock(&m->m);
}

struct dk_rwsem *dk_rwsem_new(void)
{
	struct dk_rwsem *s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);

	if (s)
		init_rwsem(&s->s);
	return s;
}

void dk_rwsem_delete(struct dk_rwsem *s)
{
	kfree(s);
}

void dk_down_read(struct dk_rwsem *s)
{
	down_read(&s->s);
}

void dk_up_read(struct dk_rwsem *s)
{
	up_read(&s->s);
}

void dk_down_write(struct dk_rwsem *s)
{
	down_write(&s->s);
}

void dk_up_write(struct dk_rwsem *s)
{
	up_write(&s->s);
}
