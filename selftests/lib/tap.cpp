// SPDX-License-Identifier: GPL-2.0
/*
 * TAP 13 harness: fork per test, results over a pipe, a per-test timeout.
 *
 * Child -> parent protocol, one record per line:
 *   "D<text>"  a diagnostic line,
 *   "P", "F<text>", "S<text>"  the result (pass, fail + reason, skip + reason).
 * No result record (crash, _exit, timeout) is a failure.
 */
#include "tap.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <poll.h>
#include <signal.h>
#include <string>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vector>

namespace tap
{
namespace
{

struct Test {
	const char *name;
	TestFn fn;
	double min_timeout;
};

std::vector<Test> &tests()
{
	static std::vector<Test> t;
	return t;
}

int out_fd = -1; /* the pipe to the parent in a child; -1 means stdout directly */

void emit(char kind, const std::string &text)
{
	/* One record per line: a multi-line text becomes several records. */
	size_t pos = 0;
	do {
		size_t nl = text.find('\n', pos);
		std::string line = text.substr(pos, nl == std::string::npos ? nl : nl - pos);
		std::string rec = std::string(1, kind) + line + "\n";
		if (out_fd < 0) {
			fputs(("# " + line + "\n").c_str(), stdout);
			fflush(stdout);
		} else {
			size_t done = 0;
			while (done < rec.size()) {
				ssize_t n = write(out_fd, rec.data() + done, rec.size() - done);
				if (n <= 0)
					break;
				done += n;
			}
		}
		pos = nl == std::string::npos ? nl : nl + 1;
		kind = kind == 'D' ? 'D' : 'd'; /* continuation lines of a result */
	} while (pos != std::string::npos && pos < text.size());
}

double now()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double timeout_seconds()
{
	/* Per test; Bochs is ~15x slower than QEMU (see test-machines.md). */
	const char *s = getenv("DBGKVM_TEST_TIMEOUT");
	if (s && *s)
		return atof(s);
	const char *vm = getenv("DBGKVM_VM");
	return vm && strstr(vm, "bochs") ? 300.0 : 30.0;
}

/* SIGTERM (the runner's watchdog) ends the current test and the run, with a report. */
volatile sig_atomic_t terminated;

void on_sigterm(int)
{
	terminated = 1;
}

struct Result {
	char status = 0; /* 'P', 'F', 'S' or 0 (no record) */
	std::string reason;
	std::vector<std::string> diags;
	std::vector<std::string> reason_more;
};

void run_child(const Test &t)
{
	try {
		t.fn();
		emit('P', "");
	} catch (const Failure &f) {
		emit('F', f.msg);
	} catch (const Skipped &s) {
		emit('S', s.reason);
	} catch (const std::exception &e) {
		emit('F', std::string("exception: ") + e.what());
	} catch (...) {
		emit('F', "unknown exception");
	}
}

Result run_forked(const Test &t)
{
	Result res;
	int p[2];
	if (pipe(p)) {
		res.status = 'F';
		res.reason = "pipe failed";
		return res;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		close(p[0]);
		out_fd = p[1];
		run_child(t);
		_exit(0);
	}
	close(p[1]);
	std::string buf;
	const double timeout = std::max(timeout_seconds(), t.min_timeout);
	const double deadline = now() + timeout;
	bool timed_out = false;
	for (;;) {
		if (terminated)
			break;
		double left = deadline - now();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		struct pollfd pfd = {p[0], POLLIN, 0};
		int n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		char chunk[4096];
		ssize_t r = read(p[0], chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		buf.append(chunk, r);
	}
	close(p[0]);
	if (timed_out || terminated)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}

	size_t pos = 0;
	while (pos < buf.size()) {
		size_t nl = buf.find('\n', pos);
		if (nl == std::string::npos)
			nl = buf.size();
		std::string line = buf.substr(pos, nl - pos);
		pos = nl + 1;
		if (line.empty())
			continue;
		char kind = line[0];
		std::string text = line.substr(1);
		if (kind == 'D')
			res.diags.push_back(text);
		else if (kind == 'd')
			res.reason_more.push_back(text);
		else if (kind == 'P' || kind == 'F' || kind == 'S') {
			res.status = kind;
			res.reason = text;
		}
	}
	if (terminated) {
		res.status = 'F';
		res.reason =
		    "terminated by SIGTERM (the runner's timeout?) while running this test";
	} else if (timed_out) {
		res.status = 'F';
		res.reason =
		    format("timed out after %.0f s (DBGKVM_TEST_TIMEOUT, TEST_SLOW)", timeout);
	} else if (WIFSIGNALED(status)) {
		res.status = 'F';
		res.reason = format("test process killed by signal %d (%s)", WTERMSIG(status),
				    strsignal(WTERMSIG(status)));
	} else if (!res.status) {
		res.status = 'F';
		res.reason =
		    format("test process exited (status %d) without a result", WEXITSTATUS(status));
	}
	return res;
}

Result run_inline(const Test &t)
{
	/* DBGKVM_NO_FORK=1: run in this process (for gdb); diagnostics go straight out. */
	Result res;
	try {
		t.fn();
		res.status = 'P';
	} catch (const Failure &f) {
		res.status = 'F';
		res.reason = f.msg;
	} catch (const Skipped &s) {
		res.status = 'S';
		res.reason = s.reason;
	} catch (const std::exception &e) {
		res.status = 'F';
		res.reason = std::string("exception: ") + e.what();
	}
	return res;
}

bool selected(const Test &t, int argc, char **argv)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], t.name))
			return true;
	return false;
}

} // namespace

Registrar::Registrar(const char *name, TestFn fn, double min_timeout)
{
	tests().push_back({name, fn, min_timeout});
}

std::string format(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = nullptr;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	std::string r = n >= 0 ? std::string(s, n) : std::string("(format error)");
	free(s);
	return r;
}

void diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = nullptr;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n >= 0)
		emit('D', std::string(s, n));
	free(s);
}

void fail(const char *file, int line, const std::string &msg)
{
	const char *base = strrchr(file, '/');
	throw Failure{format("%s:%d: ", base ? base + 1 : file, line) + msg};
}

void skip(const std::string &reason)
{
	throw Skipped{reason};
}

std::string errno_name(int err)
{
	static const struct {
		int e;
		const char *n;
	} names[] = {
	    {0, "0"},		{EPERM, "EPERM"},	    {ENOENT, "ENOENT"}, {EINTR, "EINTR"},
	    {EIO, "EIO"},	{EBADF, "EBADF"},	    {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"},
	    {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"},	    {EEXIST, "EEXIST"}, {ENODEV, "ENODEV"},
	    {EINVAL, "EINVAL"}, {ENFILE, "ENFILE"},	    {EMFILE, "EMFILE"}, {ENOTTY, "ENOTTY"},
	    {ENOSPC, "ENOSPC"}, {ERANGE, "ERANGE"},	    {ENOSYS, "ENOSYS"}, {E2BIG, "E2BIG"},
	    {ENXIO, "ENXIO"},	{EOPNOTSUPP, "EOPNOTSUPP"},
	};
	for (auto &n : names)
		if (n.e == err)
			return n.n;
	return format("errno %d", err);
}

int run_all(int argc, char **argv)
{
	const bool inline_run = getenv("DBGKVM_NO_FORK") && *getenv("DBGKVM_NO_FORK") == '1';
	std::vector<const Test *> todo;
	for (auto &t : tests())
		if (selected(t, argc, argv))
			todo.push_back(&t);

	struct sigaction sa = {};
	sa.sa_handler = on_sigterm; /* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGTERM, &sa, nullptr);
	setvbuf(stdout, nullptr, _IOLBF, 0);
	printf("TAP version 13\n1..%zu\n", todo.size());
	fflush(stdout);
	int failed = 0, skipped = 0, passed = 0;
	for (size_t i = 0; i < todo.size(); i++) {
		const Test &t = *todo[i];
		Result r = inline_run ? run_inline(t) : run_forked(t);
		for (auto &d : r.diags)
			printf("# %s\n", d.c_str());
		if (r.status == 'P') {
			printf("ok %zu - %s\n", i + 1, t.name);
			passed++;
		} else if (r.status == 'S') {
			printf("ok %zu - %s # SKIP %s\n", i + 1, t.name, r.reason.c_str());
			skipped++;
		} else {
			printf("not ok %zu - %s\n# %s\n", i + 1, t.name, r.reason.c_str());
			for (auto &m : r.reason_more)
				printf("# %s\n", m.c_str());
			failed++;
		}
		fflush(stdout);
		if (terminated) {
			printf("Bail out! terminated by SIGTERM\n");
			return 1;
		}
	}
	printf("# totals: pass %d fail %d skip %d\n", passed, failed, skipped);
	return failed ? 1 : 0;
}

} // namespace tap
