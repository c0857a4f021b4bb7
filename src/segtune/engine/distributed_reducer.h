// Gradient averaging overlapped with backward, as PyTorch DDP's Reducer does it: the trainable parameters
// are grouped, in reverse registration order (roughly the order backward produces their gradients), into
// flat buckets of about bucket_bytes. A hook on each parameter's gradient accumulator (it runs right after
// the parameter's .grad has been written, once per backward even when the parameter is used several times
// in the graph) copies the gradient into its bucket; when a bucket is full its allreduce is launched
// asynchronously while backward continues. Buckets are launched strictly in bucket order so that every
// rank issues its collectives in the same order. Finish() then waits for the buckets and writes the
// averages back.
//
//   BucketedGradientReducer reducer(params, 4 << 20, launch);
//   optimizer.zero_grad(); loss.backward();   // buckets launched from inside backward
//   reducer.Finish(world_size);               // wait, divide, copy back into .grad
//
// Contract: Finish() follows every backward (the trainer zeroes the gradients before each backward);
// accumulating gradients over several backwards between two Finish() calls is not supported and is
// reported by Finish(). A parameter that received no gradient in a backward is reduced at Finish() (as
// zeros when its .grad is undefined, which then stays undefined), so every rank issues the same collectives.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace torch::autograd {
struct Node;
}

namespace segtune {

class BucketedGradientReducer {
 public:
  // Starts the asynchronous in-place sum of `flat` over the ranks and returns the function that waits for
  // it; the waiter throws when the collective failed.
  using Launch = std::function<std::function<void()>(at::Tensor flat)>;

  // Hooks every parameter of `params` that requires grad. `params` must be leaf tensors, identical in
  // number, shapes, dtypes and order on every rank. Throws UsageError if none requires grad.
  BucketedGradientReducer(const std::vector<at::Tensor>& params, int64_t bucket_bytes, Launch launch);
  ~BucketedGradientReducer();  // Removes the hooks.
  BucketedGradientReducer(const BucketedGradientReducer&) = delete;
  BucketedGradientReducer& operator=(const BucketedGradientReducer&) = delete;

  // Launches the buckets backward did not complete, waits for every bucket, divides the sums by
  // `divisor` and copies them into the parameters' .grad. Rethrows a launch or collective failure
  // (as std::runtime_error with the c10d message); the reducer is ready for the next backward either way.
  void Finish(double divisor);

  int64_t num_buckets() const { return static_cast<int64_t>(buckets_.size()); }
  // Buckets whose allreduce was launched from inside the last backward (before Finish()).
  int64_t launched_during_backward() const { return launched_during_backward_; }
  // Seconds spent inside the hooks (copies and launches: on the backward thread) since construction.
  double hook_seconds() const { return hook_seconds_; }

 private:
  struct Slot {  // One parameter's place in a bucket.
    at::Tensor param;
    int64_t bucket = 0;
    int64_t offset = 0;
    bool ready = false;  // Its gradient was copied into the bucket in this backward.
  };
  struct Bucket {
    at::Tensor flat;
    std::vector<int64_t> slots;
    int64_t ready = 0;
    std::function<void()> wait;  // Set once launched.
  };

  void OnGradientReady(int64_t slot);
  void CopyIntoBucket(Slot& slot);
  void LaunchReadyBuckets();  // Launches complete buckets in order, from next_launch_.
  void LaunchBucket(Bucket& bucket);
  void Reset();

  Launch launch_;
  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;  // Kept alive: hooks live on them.
  std::vector<uintptr_t> hook_keys_;
  std::mutex mutex_;  // Hooks may run on autograd device threads (CUDA).
  size_t next_launch_ = 0;
  std::string launch_error_;
  int64_t launched_during_backward_ = 0;
  double hook_seconds_ = 0;
};

}  // namespace segtune
