// Learning-rate schedules of TF's optimizer.proto, as pure functions of the global step (so resuming
// needs no scheduler state beyond the step).
#pragma once

#include <cstdint>

#include "pipeline.pb.h"

namespace segtune {

// The rate at `step` (0-based) for `schedule`, with TF's formulas:
//  - constant (+ segtune's linear warmup from warmup_learning_rate over warmup_steps);
//  - exponential_decay: burn-in rate for burnin_steps, then initial * factor^((step - burnin) / decay_steps)
//    (floored when staircase), never below min_learning_rate;
//  - manual_step: piecewise constant at each schedule step (optionally a linear warmup to the first one);
//  - cosine_decay: linear warmup, hold, then 0.5 * base * (1 + cos(pi * progress)); 0 after total_steps.
// An unset schedule gives TF's default constant 0.002.
double LearningRateAt(const segtune::config::LearningRate& schedule, int64_t step);

}  // namespace segtune
