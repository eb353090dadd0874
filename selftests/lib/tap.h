/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny TAP 13 harness. Each TEST runs in a forked child (like kselftest's
 * harness), so a crash, a hang or a leaked fd stays with that test: the parent
 * prints `ok`, `not ok` (with `# ` diagnostics) or `ok ... # SKIP`, and main()
 * returns non-zero when any test failed.
 *
 * Checks throw: the first failed CHECK ends the test.
 */
#ifndef SELFTESTS_LIB_TAP_H
#define SELFTESTS_LIB_TAP_H

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace tap
{

struct Failure {
	std::string msg;
};
struct Skipped {
	std::string reason;
};

using TestFn = void (*)();

struct Registrar {
	/* min_timeout: a floor (seconds) for this test's timeout, for a test whose pace is set
	 * by the guest's scheduler rather than by the code under test (TEST_SLOW). */
	Registrar(const char *name, TestFn fn, double min_timeout = 0);
};

/* A "# ..." diagnostic line attached to the current test. */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

[[noreturn]] void fail(const char *file, int line, const std::string &msg);
[[noreturn]] void skip(const std::string &reason);

/* Runs every registered test (or those named on the command line). */
int run_all(int argc, char **argv);

template <class T> std::string show(const T &v)
{
	if constexpr (std::is_same_v<T, bool>) {
		return v ? "true" : "false";
	} else if constexpr (std::is_enum_v<T>) {
		return show(static_cast<std::underlying_type_t<T>>(v));
	} else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
		long long x = v;
		return x < 0 ? format("%lld", x)
			     : format("%lld (0x%llx)", x, (unsigned long long)x);
	} else if constexpr (std::is_integral_v<T>) {
		return format("%llu (0x%llx)", (unsigned long long)v, (unsigned long long)v);
	} else if constexpr (std::is_pointer_v<T>) {
		return format("%p", static_cast<const void *>(v));
	} else {
		return std::string(v);
	}
}

std::string errno_name(int err);

} // namespace tap

#define TAP_CAT2(a, b) a##b
#define TAP_CAT(a, b)  TAP_CAT2(a, b)

#define TEST(name)                                                                                 \
	static void test_##name();                                                                 \
	static tap::Registrar TAP_CAT(tap_reg_, name)(#name, test_##name);                         \
	static void test_##name()

/* A test that needs more than the default timeout (timeout_seconds() in tap.cpp) on the
 * fast machine: it gets at least `seconds`. Say in the test why. */
#define TEST_SLOW(name, seconds)                                                                   \
	static void test_##name();                                                                 \
	static tap::Registrar TAP_CAT(tap_reg_, name)(#name, test_##name, seconds);                \
	static void test_##name()

#define FAIL(...) tap::fail(__FILE__, __LINE__, tap::format(__VA_ARGS__))
#define SKIP(...) tap::skip(tap::format(__VA_ARGS__))

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			tap::fail(__FILE__, __LINE__, "check failed: " #cond);                     \
	} while (0)

/* CHECK_MSG(cond, fmt, ...): like CHECK, with an explanation. */
#define CHECK_MSG(cond, ...)                                                                       \
	do {                                                                                       \
		if (!(cond))                                                                       \
			tap::fail(__FILE__, __LINE__,                                              \
				  "check failed: " #cond ": " + tap::format(__VA_ARGS__));         \
	} while (0)

#define CHECK_EQ(expected, got)                                                                    \
	do {                                                                                       \
		const auto tap_e_ = (expected);                                                    \
		const auto tap_g_ = (got);                                                         \
		if (!(tap_e_ == tap_g_))                                                           \
			tap::fail(__FILE__, __LINE__,                                              \
				  std::string(#got ": expected ") + tap::show(tap_e_) + ", got " + \
				      tap::show(tap_g_));                                          \
	} while (0)

/* The call must fail with -1 and errno == err (KVM's ioctl convention). */
#define CHECK_ERRNO(err, call)                                                                     \
	do {                                                                                       \
		errno = 0;                                                                         \
		const long tap_r_ = (long)(call);                                                  \
		const int tap_errno_ = errno;                                                      \
		if (tap_r_ != -1 || tap_errno_ != (err))                                           \
			tap::fail(__FILE__, __LINE__,                                              \
				  std::string(#call ": expected -1/") + tap::errno_name(err) +     \
				      ", got " +                                                   \
				      (tap_r_ == -1 ? "-1/" + tap::errno_name(tap_errno_)          \
						    : "return " + tap::show(tap_r_)));             \
	} while (0)

/* The call must succeed (return >= 0); evaluates to its result. */
#define CHECK_OK(call)                                                                             \
	({                                                                                         \
		errno = 0;                                                                         \
		const long tap_r_ = (long)(call);                                                  \
		if (tap_r_ < 0)                                                                    \
			tap::fail(__FILE__, __LINE__,                                              \
				  std::string(#call ": expected success, got -1/") +               \
				      tap::errno_name(errno));                                     \
		tap_r_;                                                                            \
	})

#endif
