// SPDX-License-Identifier: GPL-2.0
#include "ctx.h"

#include "kvm.h"
#include "options.h"
#include "stats.h"
#include "tap.h"

#include <cerrno>
#include <cstdio>
#include <linux/kvm.h>
#include <sys/ioctl.h>

namespace fz
{

Ctx::Ctx(uint64_t seed, bool watched) : rng(seed)
{
	if (watched)
		slot_ = watch_this_thread();
}

Ctx::~Ctx()
{
	release_slot(slot_);
}

long Ctx::io(int fd, unsigned long req, unsigned long arg, const char *what, uint64_t b)
{
	long r;
	{
		Busy busy(slot_, what);
		r = ioctl(fd, req, arg);
	}
	const int err = r < 0 ? errno : 0;
	count_ioctl();
	ops_[n_++ % LOG] = OpRec{what, arg, b, r, err};
	errno = err;
	return r;
}

void Ctx::note(const char *what, uint64_t a, uint64_t b)
{
	if (options().verbose)
		fprintf(stderr, "fuzz: %s 0x%llx 0x%llx\n", what, (unsigned long long)a,
			(unsigned long long)b);
	ops_[n_++ % LOG] = OpRec{what, a, b, 0, -1};
}

std::string Ctx::log(unsigned last) const
{
	std::string s;
	uint64_t first = n_ > last ? n_ - last : 0;
	if (first)
		s += tap::format("  ... %llu earlier operations\n", (unsigned long long)first);
	for (uint64_t i = first; i < n_; i++) {
		const OpRec &o = ops_[i % LOG];
		if (o.err < 0)
			s += tap::format("  %4llu %s 0x%llx 0x%llx\n", (unsigned long long)i,
					 o.what, (unsigned long long)o.a, (unsigned long long)o.b);
		else
			s += tap::format("  %4llu %s(arg 0x%llx, 0x%llx) = %ld%s%s\n",
					 (unsigned long long)i, o.what, (unsigned long long)o.a,
					 (unsigned long long)o.b, o.ret, o.err ? " " : "",
					 o.err ? tap::errno_name(o.err).c_str() : "");
	}
	return s;
}

std::string ioctl_name(unsigned long req)
{
	switch (req) {
#define N(x)                                                                                       \
	case x:                                                                                    \
		return #x;
		N(KVM_GET_API_VERSION)
		N(KVM_CHECK_EXTENSION)
		N(KVM_CREATE_VM)
		N(KVM_GET_VCPU_MMAP_SIZE)
		N(KVM_CREATE_VCPU)
		N(KVM_SET_USER_MEMORY_REGION)
		N(KVM_RUN)
		N(KVM_GET_REGS)
		N(KVM_SET_REGS)
		N(KVM_GET_SREGS)
		N(KVM_SET_SREGS)
		N(KVM_GET_DEBUGREGS)
		N(KVM_SET_DEBUGREGS)
		N(KVM_SET_GUEST_DEBUG)
		N(KVM_GET_VCPU_EVENTS)
		N(KVM_SET_VCPU_EVENTS)
		N(KVM_GET_FPU)
		N(KVM_SET_FPU)
		N(KVM_GET_XCRS)
		N(KVM_SET_XCRS)
		N(KVM_GET_MP_STATE)
		N(KVM_SET_MP_STATE)
		N(KVM_SET_USER_MEMORY_REGION2)
		N(kt::GET_XSAVE)
		N(kt::SET_XSAVE)
		N(kt::GET_MSRS)
		N(kt::SET_MSRS)
		N(kt::GET_MSR_INDEX_LIST)
		N(kt::GET_MSR_FEATURE_INDEX_LIST)
#undef N
	default:
		return tap::format("ioctl 0x%lx", req);
	}
}

void run_iterations(unsigned test, const char *name, const Quota &q,
		    const std::function<void(Ctx &, uint64_t)> &body)
{
	const Options &o = options();
	TestProgress &p = stats().tests[test];
	install_kick_handler();
	install_crash_handlers();
	const uint64_t t0 = now_ns();
	const uint64_t io0 = stats().ioctls.load(), in0 = stats().guest_insns.load();
	const double share = o.seconds ? o.seconds * time_share(name) : 0;
	auto more = [&](uint64_t done) {
		if (o.single)
			return done == 0;
		if (share > 0)
			return (now_ns() - t0) / 1e9 < share;
		return done < q.iterations || stats().ioctls.load() - io0 < q.ioctls ||
		       stats().guest_insns.load() - in0 < q.guest_insns;
	};
	for (uint64_t done = 0; more(done); done++) {
		const uint64_t iter = o.single ? o.iter : done;
		const uint64_t sub = iteration_seed(o.seed, test, iter);
		p.iter = iter;
		p.subseed = sub;
		p.in_iteration = 1;
		const std::string where =
		    tap::format("%s iteration %llu (seed 0x%llx, sub-seed 0x%llx); replay: %s",
				name, (unsigned long long)iter, (unsigned long long)o.seed,
				(unsigned long long)sub, replay_command(name, iter).c_str());
		set_crash_note(where.c_str());
		if (o.verbose)
			fprintf(stderr, "fuzz: %s\n", where.c_str());
		Ctx ctx(sub);
		try {
			body(ctx, iter);
		} catch (tap::Failure &f) {
			p.in_iteration = 0; /* reported here, with the replay line */
			f.msg += "\n" + where +
				 "\noperations of the failing thread (last first at "
				 "the bottom):\n" +
				 ctx.log();
			throw;
		}
		p.in_iteration = 0;
		p.done++;
	}
	tap::diag("%s: %llu iterations, %llu ioctls, %llu guest instructions, %.1f s", name,
		  (unsigned long long)p.done.load(),
		  (unsigned long long)(stats().ioctls.load() - io0),
		  (unsigned long long)(stats().guest_insns.load() - in0), (now_ns() - t0) / 1e9);
}

} // namespace fz
