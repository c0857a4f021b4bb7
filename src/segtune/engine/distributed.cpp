#include "segtune/engine/distributed.h"

#define USE_C10D_GLOO 1
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>

#include "segtune/core/error.h"
#include "segtune/engine/distributed_reducer.h"
#include "segtune/models/layers.h"

namespace segtune {

namespace {

constexpr auto kHeartbeatInterval = std::chrono::seconds(1);
constexpr auto kHeartbeatSilence = std::chrono::milliseconds(3500);  // No beat for this long: lost.

std::string HeartbeatKey(int rank) { return "segtune/heartbeat/" + std::to_string(rank); }

bool IsLoopback(const std::string& addr) { return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1"; }

std::shared_ptr<::gloo::transport::Device> GlooDevice(const DistributedEnv& env) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0') {
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  }
  if (IsLoopback(env.master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

c10::intrusive_ptr<c10d::TCPStore> ConnectStore(const DistributedEnv& env, bool server,
                                               std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<uint16_t>(env.master_port);
  options.isServer = server;
  if (server) options.numWorkers = static_cast<size_t>(env.world_size);
  options.waitWorkers = false;  // The Gloo rendezvous below waits for everyone (with the timeout).
  options.timeout = timeout;
  return c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
}

// First line of a c10d/Gloo message (they append C++ stack traces), shortened.
std::string FirstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.size() > 300 ? line.substr(0, 300) + "..." : line;
}

// Test hook: SEGTUNE_TEST_KILL_RANK_AT_STEP="R:S" makes rank R kill itself with SIGKILL when step S (1-based)
// reaches its loss reduction, to test how the other ranks react to a crashed peer; "R:S:STOP" stops it with
// SIGSTOP instead (a hung peer); "R:S:GRAD" kills it inside its backward, as it is about to launch its
// first overlapped gradient bucket, so the others' buckets launched during their backward cannot complete.
enum class TestKillPoint { kLossReduction, kGradientBucket };
void MaybeKillForTest(int rank, int64_t step, TestKillPoint point) {
  const char* spec = std::getenv("SEGTUNE_TEST_KILL_RANK_AT_STEP");
  if (spec == nullptr) return;
  int r = -1;
  long long s = -1;
  char how[8] = "";
  if (std::sscanf(spec, "%d:%lld:%7s", &r, &s, how) < 2 || r != rank || step < s) return;
  const std::string mode = how;
  if ((mode == "GRAD") != (point == TestKillPoint::kGradientBucket)) return;
  std::raise(mode == "STOP" ? SIGSTOP : SIGKILL);
}

}  // namespace

struct DataParallelGroup::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
  std::atomic<int64_t> step{0};
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread heartbeat;
  std::unique_ptr<BucketedGradientReducer> reducer;  // Overlapped gradient averaging (after the first step).
  const torch::nn::Module* reducer_module = nullptr;

  // Publishes "<beat> <step>" every second on its own connection, so a busy main thread (or one blocked
  // in a collective) never delays it. Ends quietly when the store goes away.
  void Beat(DistributedEnv env, std::chrono::milliseconds timeout) {
    try {
      auto client = ConnectStore(env, /*server=*/false, timeout);
      for (int64_t beat = 0;; ++beat) {
        const std::string value = std::to_string(beat) + " " + std::to_string(step.load());
        client->set(HeartbeatKey(env.rank), std::vector<uint8_t>(value.begin(), value.end()));
        std::unique_lock<std::mutex> lock(mutex);
        if (wake.wait_for(lock, kHeartbeatInterval, [this] { return stopping; })) return;
      }
    } catch (const std::exception&) {
    }
  }
};

DataParallelGroup::DataParallelGroup(const DistributedEnv& env, std::chrono::milliseconds timeout)
    : env_(env), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  if (!env.active()) throw UsageError("DataParallelGroup needs WORLD_SIZE > 1");
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  try {
    impl_->store = ConnectStore(env, env.rank == 0, timeout);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(GlooDevice(env));
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("segtune/gloo", impl_->store);
    impl_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, env.rank, env.world_size, options);
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) +
                ": could not join the process group at " + where + " within " +
                std::to_string(timeout.count() / 1000) + " s (is rank 0 running, MASTER_ADDR/MASTER_PORT right, " +
                "every rank started?): " + FirstLine(e.what()));
  }
  impl_->heartbeat = std::thread([this, env, timeout] { impl_->Beat(env, timeout); });
}

DataParallelGroup::~DataParallelGroup() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->heartbeat.joinable()) impl_->heartbeat.join();
  impl_->reducer.reset();  // Its hooks go before the process group its launches use.
  impl_->gloo.reset();
  impl_->store.reset();
}

std::string DataParallelGroup::DiagnosePeers() {
  using Beat = std::pair<long long, long long>;  // (beat, step); beat -1 = never published.
  auto client = ConnectStore(env_, /*server=*/false, std::chrono::seconds(5));
  auto snapshot = [&] {
    std::vector<Beat> beats(env_.world_size, {-1, -1});
    for (int r = 0; r < env_.world_size; ++r) {
      if (r == env_.rank || !client->check({HeartbeatKey(r)})) continue;
      const std::vector<uint8_t> value = client->get(HeartbeatKey(r));
      std::istringstream(std::string(value.begin(), value.end())) >> beats[r].first >> beats[r].second;
    }
    return beats;
  };
  const std::vector<Beat> before = snapshot();
  std::this_thread::sleep_for(kHeartbeatSilence);
  const std::vector<Beat> after = snapshot();
  std::string lost, steps;
  long long slowest = -1;
  for (int r = 0; r < env_.world_size; ++r) {
    if (r == env_.rank) continue;
    if (after[r].first == before[r].first) lost += (lost.empty() ? "" : ", ") + std::to_string(r);
    if (slowest < 0 || after[r].second < slowest) slowest = after[r].second;
  }
  if (!lost.empty()) {
    return "lost rank " + lost + " (no heartbeat for " +
           std::to_string(std::chrono::duration<double>(kHeartbeatSilence).count()).substr(0, 3) +
           " s: the process died or its host is unreachable)";
  }
  for (int r = 0; r < env_.world_size; ++r) {
    if (r != env_.rank && after[r].second == slowest) steps += (steps.empty() ? "" : ", ") + std::to_string(r);
  }
  return "every rank still has a heartbeat; rank " + steps + " is behind (at step " + std::to_string(slowest) +
         "): hung or much slower than the others";
}

void DataParallelGroup::Fail(const std::string& what, const std::string& cause) {
  std::string diagnosis;
  try {
    diagnosis = DiagnosePeers();
  } catch (const std::exception&) {
    diagnosis = "lost rank 0 (its rendezvous store at " + env_.master_addr + ":" + std::to_string(env_.master_port) +
                " is unreachable: the process died or its host is unreachable)";
  }
  throw Error("rank " + std::to_string(env_.rank) + " of " + std::to_string(env_.world_size) + ": " + what +
              " at step " + std::to_string(impl_->step.load()) + " failed: " + diagnosis +
              "; stopping (timeout " + std::to_string(timeout_.count() / 1000) + " s). c10d: " + FirstLine(cause));
}

void DataParallelGroup::AllReduceSum(std::vector<at::Tensor>& tensors, const std::string& what) {
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  try {
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};  // One tensor per call: Gloo sums the tensors of a list together.
      works.push_back(impl_->gloo->allreduce(one));
    }
    for (auto& w : works) w->wait();
  } catch (const std::exception& e) {
    Fail(what, e.what());
  }
}

void DataParallelGroup::Broadcast(std::vector<at::Tensor>& tensors, int root, const std::string& what) {
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  try {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};
      works.push_back(impl_->gloo->broadcast(one, options));
    }
    for (auto& w : works) w->wait();
  } catch (const std::exception& e) {
    Fail(what, e.what());
  }
}

void DataParallelGroup::BroadcastModule(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> targets;
  for (const auto& p : module.parameters()) targets.push_back(p.detach());
  for (const auto& b : module.buffers()) targets.push_back(b.detach());
  // Gloo wants contiguous tensors; channels-last weights travel as contiguous copies.
  std::vector<at::Tensor> tensors;
  for (const auto& t : targets) tensors.push_back(t.contiguous());
  Broadcast(tensors, 0, "broadcast of rank 0's weights");
  for (size_t i = 0; i < targets.size(); ++i) {
    if (!tensors[i].is_same(targets[i])) targets[i].copy_(tensors[i]);
  }
}

StepReduction DataParallelGroup::ReduceStep(int64_t step, double local_mean_loss, double local_denominator,
                                            bool stop_requested) {
  impl_->step = step + 1;  // The step being run, 1-based as in the trainer's messages.
  MaybeKillForTest(env_.rank, step + 1, TestKillPoint::kLossReduction);
  const double contribution = local_denominator > 0 ? local_mean_loss * local_denominator : 0.0;
  std::vector<at::Tensor> sums{
      torch::tensor({contribution, local_denominator, stop_requested ? 1.0 : 0.0}, torch::kFloat64)};
  AllReduceSum(sums, "loss allreduce");
  const double total = sums[0][0].item<double>(), denominator = sums[0][1].item<double>();
  StepReduction r;
  r.loss = denominator > 0 ? total / denominator : std::nan("");
  r.local_scale = denominator > 0 ? local_denominator * env_.world_size / denominator : 1.0;
  r.stop = sums[0][2].item<double>() > 0;
  return r;
}

namespace {
bool OverlapEnabled() {
  const char* value = std::getenv("SEGTUNE_DDP_OVERLAP");
  return value == nullptr || std::string(value) != "0";
}

// The BatchNorm statistics reducer of a group: a blocking allreduce (the group outlives the model's use).
class GroupBatchNormReducer : public BatchNormStatsReducer {
 public:
  explicit GroupBatchNormReducer(DataParallelGroup* group) : group_(group) {}
  void SumOverReplicas(at::Tensor& t) override {
    std::vector<at::Tensor> tensors{t};
    group_->AllReduceSum(tensors, "BatchNorm statistics allreduce");
  }

 private:
  DataParallelGroup* group_;
};
}  // namespace

void DataParallelGroup::AverageGradients(torch::nn::Module& module, int64_t bucket_bytes) {
  const auto start = std::chrono::steady_clock::now();
  if (OverlapEnabled() && impl_->reducer && impl_->reducer_module == &module) {
    try {
      impl_->reducer->Finish(env_.world_size);
    } catch (const std::exception& e) {
      Fail("gradient allreduce", e.what());
    }
  } else {
    AverageGradientsAfterBackward(module, bucket_bytes);
    if (OverlapEnabled()) {  // This backward ran without hooks; the next ones overlap.
      impl_->reducer.reset();
      auto launch = [this](at::Tensor flat) -> std::function<void()> {
        MaybeKillForTest(env_.rank, impl_->step.load(), TestKillPoint::kGradientBucket);
        std::vector<at::Tensor> one{flat};
        c10::intrusive_ptr<c10d::Work> work = impl_->gloo->allreduce(one);
        return [work] { work->wait(); };
      };
      impl_->reducer = std::make_unique<BucketedGradientReducer>(module.parameters(), bucket_bytes, launch);
      impl_->reducer_module = &module;
    }
  }
  allreduce_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double DataParallelGroup::allreduce_seconds() const {
  return allreduce_seconds_ + (impl_->reducer ? impl_->reducer->hook_seconds() : 0.0);
}

void DataParallelGroup::AverageGradientsAfterBackward(torch::nn::Module& module, int64_t bucket_bytes) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const auto& p : module.parameters()) {
    if (p.requires_grad() && p.grad().defined()) grads.push_back(p.grad());
  }
  // Consecutive gradients of one dtype share a bucket until it holds bucket_bytes.
  std::vector<std::vector<at::Tensor>> buckets;
  int64_t bytes = 0;
  for (const auto& g : grads) {
    const int64_t size = g.numel() * static_cast<int64_t>(g.element_size());
    if (buckets.empty() || bytes + size > bucket_bytes || buckets.back().front().scalar_type() != g.scalar_type()) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(g);
    bytes += size;
  }
  std::vector<at::Tensor> flats;
  for (const auto& bucket : buckets) {
    std::vector<at::Tensor> pieces;
    for (const auto& g : bucket) pieces.push_back(g.reshape({-1}));
    flats.push_back(torch::cat(pieces));
  }
  AllReduceSum(flats, "gradient allreduce");
  for (size_t b = 0; b < buckets.size(); ++b) {
    flats[b].div_(env_.world_size);
    int64_t offset = 0;
    for (auto& g : buckets[b]) {
      g.copy_(flats[b].slice(0, offset, offset + g.numel()).view_as(g));
      offset += g.numel();
    }
  }
}

int DataParallelGroup::SynchroniseBatchNorm(torch::nn::Module& module) {
  return segtune::SynchroniseBatchNorm(module, std::make_shared<GroupBatchNormReducer>(this));
}

void DataParallelGroup::AllReduceConfusion(SemanticConfusion* confusion) {
  const int k = confusion->num_classes();
  std::vector<int64_t> counts(static_cast<size_t>(k) * k + 2);
  for (int g = 0; g < k; ++g) {
    for (int p = 0; p < k; ++p) counts[g * k + p] = confusion->at(g, p);
  }
  counts[k * k] = confusion->ignored_pixels();
  counts[k * k + 1] = confusion->unknown_label_pixels();
  std::vector<at::Tensor> sums{torch::tensor(counts, torch::kInt64)};
  AllReduceSum(sums, "evaluation confusion-matrix allreduce");
  const int64_t* total = sums[0].data_ptr<int64_t>();
  SemanticConfusion reduced(k, confusion->ignore_label());
  reduced.AddCounts(std::vector<int64_t>(total, total + k * k), total[k * k], total[k * k + 1]);
  *confusion = reduced;
}

std::pair<int64_t, int64_t> ShardRange(int64_t n, int rank, int world_size) {
  return {n * rank / world_size, n * (rank + 1) / world_size};
}

double LossDenominator(const at::Tensor& labels, const at::Tensor& class_weights, int ignore_label) {
  const at::Tensor valid = labels != ignore_label;
  if (!class_weights.defined()) return valid.sum().item<double>();
  return class_weights.to(torch::kFloat64).index_select(0, labels.masked_select(valid).to(torch::kLong)).sum().item<double>();
}

}  // namespace segtune
