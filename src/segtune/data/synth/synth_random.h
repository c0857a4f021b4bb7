// The random source of the synthetic dataset generator: a seeded 64-bit generator with its own
// uniform/normal helpers, so a seed gives the same dataset on every platform and standard library
// (std::uniform_*_distribution is implementation-defined; std::mt19937_64's output is not).
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace segtune::synth {

// SplitMix64 finaliser: spreads (seed, stream) pairs into unrelated generator seeds.
inline uint64_t MixSeed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}

  uint64_t Next() { return engine_(); }
  // Uniform in [0, 1).
  double Unit() { return double(engine_() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Unit(); }
  // Uniform integer in [lo, hi] (inclusive).
  int Int(int lo, int hi) { return lo + int(engine_() % uint64_t(hi - lo + 1)); }
  bool Chance(double p) { return Unit() < p; }
  // Standard normal (Box-Muller; one value per call keeps the stream simple).
  double Normal(double mean = 0.0, double stddev = 1.0) {
    const double u1 = 1.0 - Unit();  // In (0, 1]: log stays finite.
    const double u2 = Unit();
    return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[size_t(engine_() % items.size())];
  }
  // A Labelbox-style id ("ck" + 23 base-36 characters, like a cuid).
  std::string Cuid() {
    static const char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string id = "ck";
    for (int i = 0; i < 23; ++i) id.push_back(kAlphabet[engine_() % 36]);
    return id;
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace segtune::synth
