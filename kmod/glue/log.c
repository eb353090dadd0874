// SPDX-License-Identifier: GPL-2.0
/* printk for the C++ core. */
#include <linux/kernel.h>
#include <linux/printk.h>
#include "dbgkvm_glue.h"

void dk_log_info(const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_info("dbgkvm: %pV", &vaf);
	va_end(args);
}

void dk_log_warn(const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_warn("dbgkvm: %pV", &vaf);
	va_end(args);
}
