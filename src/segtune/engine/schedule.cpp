#include "segtune/engine/schedule.h"

#include <algorithm>
#include <cmath>

namespace segtune {

namespace {

double Cosine(const segtune::config::CosineDecayLearningRate& c, int64_t step) {
  const double base = c.learning_rate_base();
  const int64_t warmup = c.warmup_steps(), hold = c.hold_base_rate_steps(), total = c.total_steps();
  if (step > total) return 0.0;
  if (warmup > 0 && step < warmup) {
    const double slope = (base - c.warmup_learning_rate()) / warmup;
    return slope * step + c.warmup_learning_rate();
  }
  if (hold > 0 && step <= warmup + hold) return base;
  const double span = std::max<int64_t>(1, total - warmup - hold);
  return 0.5 * base * (1 + std::cos(M_PI * (step - warmup - hold) / span));
}

double Exponential(const segtune::config::ExponentialDecayLearningRate& e, int64_t step) {
  if (step < static_cast<int64_t>(e.burnin_steps())) {
    return e.burnin_learning_rate() == 0 ? e.initial_learning_rate() : e.burnin_learning_rate();
  }
  double exponent = double(step - e.burnin_steps()) / std::max<uint32_t>(1, e.decay_steps());
  if (e.staircase()) exponent = std::floor(exponent);
  return std::max<double>(e.min_learning_rate(), e.initial_learning_rate() * std::pow(e.decay_factor(), exponent));
}

double ManualStep(const segtune::config::ManualStepLearningRate& m, int64_t step) {
  if (m.schedule_size() == 0) return m.initial_learning_rate();
  const auto& first = m.schedule(0);
  if (step < static_cast<int64_t>(first.step())) {
    if (!m.warmup() || first.step() == 0) return m.initial_learning_rate();
    const double t = double(step) / first.step();
    return m.initial_learning_rate() + t * (first.learning_rate() - m.initial_learning_rate());
  }
  double rate = first.learning_rate();
  for (const auto& s : m.schedule()) {
    if (step >= static_cast<int64_t>(s.step())) rate = s.learning_rate();
  }
  return rate;
}

double Constant(const segtune::config::ConstantLearningRate& c, int64_t step) {
  if (step < static_cast<int64_t>(c.warmup_steps())) {
    const double t = double(step) / c.warmup_steps();
    return c.warmup_learning_rate() + t * (c.learning_rate() - c.warmup_learning_rate());
  }
  return c.learning_rate();
}

}  // namespace

double LearningRateAt(const segtune::config::LearningRate& s, int64_t step) {
  if (s.has_cosine_decay_learning_rate()) return Cosine(s.cosine_decay_learning_rate(), step);
  if (s.has_exponential_decay_learning_rate()) return Exponential(s.exponential_decay_learning_rate(), step);
  if (s.has_manual_step_learning_rate()) return ManualStep(s.manual_step_learning_rate(), step);
  return Constant(s.constant_learning_rate(), step);
}

}  // namespace segtune
