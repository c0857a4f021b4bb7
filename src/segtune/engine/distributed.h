// Data-parallel training on libtorch's c10d: a c10d::TCPStore rendezvous hosted by rank 0 and a
// c10d::ProcessGroupGloo for the collectives (NCCL would be the backend for CUDA builds).
//
//   DataParallelGroup group(DistributedEnvFromEnvironment(), std::chrono::seconds(300));
//   group.BroadcastModule(model);                       // Every rank starts from rank 0's weights.
//   ... forward on this rank's shard of the global batch ...
//   const StepReduction r = group.ReduceStep(step, loss_value, LossDenominator(labels, weights, ignore), stop);
//   (loss * r.local_scale).backward();
//   group.AverageGradients(model);                      // Bucketed allreduce, then / world_size.
//
// Gradient convention: the trainer's loss is a mean over the non-ignored (class-weighted) pixels. Each
// rank scales its local mean by (local denominator * world_size / global denominator), so that the
// averaged gradients are exactly those of the mean over the whole global batch, as one process computes
// it, even when ranks hold different numbers of ignored pixels.
//
// Failure detection: every rank publishes a heartbeat (and its current step) in the store every second
// from a separate connection. When a collective fails (a peer's socket closed) or exceeds the timeout, the
// error names the ranks whose heartbeat stopped (or rank 0 when the store itself is gone), or, when all are
// alive, the rank(s) lagging behind (hung). The group never waits on a peer longer than the timeout.
#pragma once

#include <torch/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "segtune/engine/distributed_env.h"
#include "segtune/evaluation/semantic_metrics.h"

namespace torch::nn {
class Module;
}

namespace segtune {

struct StepReduction {
  double loss = 0;         // Mean loss over the global batch (same value on every rank).
  double local_scale = 1;  // Multiply this rank's mean loss by it before backward().
  bool stop = false;       // Some rank asked to stop (SIGINT/SIGTERM): every rank stops after this step.
};

class DataParallelGroup {
 public:
  // Joins the group described by `env` (env.active() required): rank 0 hosts the store on
  // master_addr:master_port, everyone connects and builds the Gloo group. `timeout` bounds the rendezvous
  // and every later collective. The Gloo device is the interface named by GLOO_SOCKET_IFNAME if set, the
  // loopback address when master_addr is a loopback address, else this host's name.
  // Throws Error naming the address when the rendezvous fails or times out.
  DataParallelGroup(const DistributedEnv& env, std::chrono::milliseconds timeout);
  ~DataParallelGroup();
  DataParallelGroup(const DataParallelGroup&) = delete;
  DataParallelGroup& operator=(const DataParallelGroup&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  bool is_chief() const { return env_.rank == 0; }
  bool sync_batch_norm() const { return env_.sync_batch_norm; }

  // In-place sum over all ranks (CPU tensors, identical shapes and order on every rank). `what` names the
  // operation in errors. Throws Error naming the lost or hung rank (see above).
  void AllReduceSum(std::vector<at::Tensor>& tensors, const std::string& what);
  // In-place: every rank receives rank `root`'s values.
  void Broadcast(std::vector<at::Tensor>& tensors, int root, const std::string& what);
  // Copies rank 0's parameters and buffers into every rank's module (same architecture required).
  void BroadcastModule(torch::nn::Module& module);

  // One small allreduce per step: the global loss, this rank's loss scale and the stop vote (see the
  // header comment). Also records `step` for diagnostics.
  StepReduction ReduceStep(int64_t step, double local_mean_loss, double local_denominator, bool stop_requested);
  // Averages the gradients of `module`'s trainable parameters over the ranks; call it after every
  // backward. The first call reduces after backward (flattened buckets of about `bucket_bytes`, all in
  // flight together) and then hooks the parameters (engine/distributed_reducer.h): from the next backward
  // on, each bucket's allreduce starts inside backward as soon as its gradients are ready, and this call
  // only waits for the buckets and copies the averages back. The trainable set must not change between
  // calls (a different module is hooked afresh). SEGTUNE_DDP_OVERLAP=0 in the environment keeps the
  // after-backward reduction on every step (for benchmarks). Throws Error naming a lost or hung rank.
  void AverageGradients(torch::nn::Module& module, int64_t bucket_bytes = 4 << 20);
  // Makes every BatchNorm of `module` compute its training-mode statistics over the global batch
  // (SyncBatchNorm, see models/layers.h); returns how many BatchNorm modules were synchronised.
  int SynchroniseBatchNorm(torch::nn::Module& module);
  // Replaces *confusion (this rank's share of an evaluation) by the sum over all ranks.
  void AllReduceConfusion(SemanticConfusion* confusion);
  // Gradient-averaging seconds not overlapped with backward so far (for benchmarks): the time spent in
  // AverageGradients plus the bucket copies and launches inside backward.
  double allreduce_seconds() const;

 private:
  struct Impl;
  // Throws the Error for a failed collective, naming the lost or hung rank.
  [[noreturn]] void Fail(const std::string& what, const std::string& cause);
  std::string DiagnosePeers();
  void AverageGradientsAfterBackward(torch::nn::Module& module, int64_t bucket_bytes);

  DistributedEnv env_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Impl> impl_;
  double allreduce_seconds_ = 0;
};

// The contiguous part [first, end) of n items (e.g. evaluation batches) that `rank` of `world_size` takes:
// the parts are disjoint, cover 0..n-1 and differ in size by at most one.
std::pair<int64_t, int64_t> ShardRange(int64_t n, int rank, int world_size);

// What cross_entropy's mean reduction divides by: the number of labels != ignore_label, or with class
// weights the sum of the weights of those labels.
double LossDenominator(const at::Tensor& labels, const at::Tensor& class_weights, int ignore_label);

}  // namespace segtune
