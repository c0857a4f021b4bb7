#include "segtune/engine/distributed_reducer.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/torch.h>

#include <chrono>
#include <stdexcept>

#include "segtune/core/error.h"

namespace segtune {

BucketedGradientReducer::BucketedGradientReducer(const std::vector<at::Tensor>& params, int64_t bucket_bytes,
                                                 Launch launch)
    : launch_(std::move(launch)) {
  // Reverse registration order: the head of a network (registered last) gets its gradients first.
  int64_t bytes = 0;
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (!it->requires_grad()) continue;
    const int64_t size = it->numel() * static_cast<int64_t>(it->element_size());
    if (buckets_.empty() || bytes + size > bucket_bytes ||
        buckets_.back().flat.scalar_type() != it->scalar_type()) {
      buckets_.emplace_back();
      buckets_.back().flat = torch::empty({0}, it->options().requires_grad(false));
      bytes = 0;
    }
    Bucket& bucket = buckets_.back();
    slots_.push_back({*it, num_buckets() - 1, bucket.flat.numel(), false});
    bucket.slots.push_back(static_cast<int64_t>(slots_.size()) - 1);
    bucket.flat = torch::empty({bucket.flat.numel() + it->numel()}, bucket.flat.options());
    bytes += size;
  }
  if (slots_.empty()) throw UsageError("gradient averaging: no parameter requires a gradient");
  for (size_t i = 0; i < slots_.size(); ++i) {
    std::shared_ptr<torch::autograd::Node> accumulator = torch::autograd::impl::grad_accumulator(slots_[i].param);
    const int64_t slot = static_cast<int64_t>(i);
    hook_keys_.push_back(accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [this, slot](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          OnGradientReady(slot);
          return outputs;
        })));
    accumulators_.push_back(std::move(accumulator));
  }
}

BucketedGradientReducer::~BucketedGradientReducer() {
  for (size_t i = 0; i < accumulators_.size(); ++i) accumulators_[i]->del_post_hook(hook_keys_[i]);
}

void BucketedGradientReducer::OnGradientReady(int64_t index) {
  const auto start = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  Slot& slot = slots_[index];
  Bucket& bucket = buckets_[slot.bucket];
  if (bucket.wait) {  // A second backward before Finish(): the sum in flight is already stale.
    if (launch_error_.empty()) {
      launch_error_ = "a gradient was produced again after its bucket's allreduce started: Finish() must follow "
                      "every backward (gradient accumulation across backwards is not supported)";
    }
    return;
  }
  CopyIntoBucket(slot);
  if (bucket.ready == static_cast<int64_t>(bucket.slots.size())) LaunchReadyBuckets();
  hook_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void BucketedGradientReducer::CopyIntoBucket(Slot& slot) {
  torch::NoGradGuard no_grad;
  Bucket& bucket = buckets_[slot.bucket];
  at::Tensor target = bucket.flat.slice(0, slot.offset, slot.offset + slot.param.numel()).view(slot.param.sizes());
  const at::Tensor& grad = slot.param.grad();
  if (grad.defined()) {
    target.copy_(grad);
  } else {
    target.zero_();
  }
  if (!slot.ready) ++bucket.ready;
  slot.ready = true;
}

void BucketedGradientReducer::LaunchReadyBuckets() {
  while (next_launch_ < buckets_.size() &&
         buckets_[next_launch_].ready == static_cast<int64_t>(buckets_[next_launch_].slots.size())) {
    LaunchBucket(buckets_[next_launch_++]);
  }
}

void BucketedGradientReducer::LaunchBucket(Bucket& bucket) {
  try {
    bucket.wait = launch_(bucket.flat);
  } catch (const std::exception& e) {
    // Not thrown through backward (autograd would rewrap it): Finish() reports it.
    if (launch_error_.empty()) launch_error_ = e.what();
    bucket.wait = [] {};
  }
}

void BucketedGradientReducer::Finish(double divisor) {
  std::lock_guard<std::mutex> lock(mutex_);
  launched_during_backward_ = static_cast<int64_t>(next_launch_);
  try {
    for (Slot& slot : slots_) {
      if (!slot.ready && !buckets_[slot.bucket].wait) CopyIntoBucket(slot);
    }
    LaunchReadyBuckets();
    for (Bucket& bucket : buckets_) bucket.wait();
  } catch (const std::exception& e) {
    if (launch_error_.empty()) launch_error_ = e.what();
  }
  if (!launch_error_.empty()) {
    const std::string error = launch_error_;
    Reset();
    throw std::runtime_error(error);
  }
  torch::NoGradGuard no_grad;
  for (Bucket& bucket : buckets_) {
    bucket.flat.div_(divisor);
    for (int64_t index : bucket.slots) {
      Slot& slot = slots_[index];
      at::Tensor grad = slot.param.mutable_grad();
      if (grad.defined()) grad.copy_(bucket.flat.slice(0, slot.offset, slot.offset + grad.numel()).view(grad.sizes()));
    }
  }
  Reset();
}

void BucketedGradientReducer::Reset() {
  for (Slot& slot : slots_) slot.ready = false;
  for (Bucket& bucket : buckets_) {
    bucket.ready = 0;
    bucket.wait = nullptr;
  }
  next_launch_ = 0;
  launch_error_.clear();
}

}  // namespace segtune
