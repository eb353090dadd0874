/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer's randomness: one 64-bit run seed, from which every iteration of every
 * test derives its own sub-seed (iteration_seed), so any single iteration can be
 * replayed alone (`fuzz_test --seed S --iter N --single TEST`). Rng is xoshiro256**
 * seeded through splitmix64: fast, and the same stream on every machine.
 */
#ifndef SELFTESTS_FUZZ_RNG_H
#define SELFTESTS_FUZZ_RNG_H

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace fz
{

inline uint64_t splitmix64(uint64_t &x)
{
	uint64_t z = (x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The sub-seed of iteration `iter` of the test numbered `test` (its place in the list). */
inline uint64_t iteration_seed(uint64_t run_seed, unsigned test, uint64_t iter)
{
	uint64_t x = run_seed ^ (uint64_t(test) << 56);
	splitmix64(x);
	x ^= iter * 0xd1342543de82ef95ull;
	return splitmix64(x);
}

class Rng
{
public:
	explicit Rng(uint64_t seed)
	{
		for (auto &w : s_)
			w = splitmix64(seed);
	}

	uint64_t next()
	{
		const uint64_t r = rotl(s_[1] * 5, 7) * 9;
		const uint64_t t = s_[1] << 17;
		s_[2] ^= s_[0];
		s_[3] ^= s_[1];
		s_[1] ^= s_[2];
		s_[0] ^= s_[3];
		s_[2] ^= t;
		s_[3] = rotl(s_[3], 45);
		return r;
	}
	uint32_t u32() { return uint32_t(next() >> 32); }
	/* Uniform in [0, n); n > 0. */
	uint64_t below(uint64_t n) { return n ? next() % n : 0; }
	/* Uniform in [lo, hi]. */
	uint64_t range(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }
	/* True with probability num/den. */
	bool chance(unsigned num, unsigned den) { return below(den) < num; }
	bool coin() { return next() & 1; }
	template <class T> T pick(std::initializer_list<T> l) { return l.begin()[below(l.size())]; }
	template <class T, size_t N> const T &pick(const T (&a)[N]) { return a[below(N)]; }
	/* A value a fuzzer likes: 0, all ones, powers of two and their neighbours, random. */
	uint64_t interesting64()
	{
		switch (below(8)) {
		case 0:
			return pick<uint64_t>({0, 1, ~0ull, 0x7fffffffffffffffull,
					       0x8000000000000000ull, 0xffffffffull, 0x100000000ull,
					       0xfffff000ull});
		case 1:
			return 1ull << below(64);
		case 2:
			return (1ull << below(64)) - 1;
		case 3:
			return -(1ull << below(64));
		case 4:
			return u32();
		case 5:
			return below(0x10000);
		default:
			return next();
		}
	}
	void fill(void *p, size_t n)
	{
		auto *b = static_cast<uint8_t *>(p);
		for (size_t i = 0; i < n; i += 8) {
			uint64_t v = next();
			for (size_t j = 0; j < 8 && i + j < n; j++)
				b[i + j] = uint8_t(v >> (8 * j));
		}
	}

private:
	static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
	uint64_t s_[4];
};

} // namespace fz

#endif
