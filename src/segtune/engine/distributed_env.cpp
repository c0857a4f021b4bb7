#include "segtune/engine/distributed_env.h"

#include <cstdlib>

#include "segtune/core/error.h"

namespace segtune {

namespace {

// Value of an integer variable in [low, high], or `fallback` when unset.
int IntFromEnvironment(const char* name, int fallback, int low, int high) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < low || value > high) {
    throw UsageError(std::string("environment variable ") + name + "=" + text + ": expected an integer in [" +
                     std::to_string(low) + ", " + std::to_string(high) + "]");
  }
  return static_cast<int>(value);
}

}  // namespace

DistributedEnv DistributedEnvFromEnvironment() {
  DistributedEnv env;
  const bool has_rank = std::getenv("RANK") != nullptr, has_world = std::getenv("WORLD_SIZE") != nullptr;
  if (!has_rank && !has_world) return env;
  if (has_rank != has_world) {
    throw UsageError(std::string("environment: ") + (has_rank ? "RANK" : "WORLD_SIZE") + " is set but " +
                     (has_rank ? "WORLD_SIZE" : "RANK") + " is not (torchrun sets both)");
  }
  env.world_size = IntFromEnvironment("WORLD_SIZE", 1, 1, 1 << 20);
  env.rank = IntFromEnvironment("RANK", 0, 0, env.world_size - 1);
  env.local_rank = IntFromEnvironment("LOCAL_RANK", env.rank, 0, env.world_size - 1);
  env.master_port = IntFromEnvironment("MASTER_PORT", env.master_port, 1, 65535);
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') env.master_addr = addr;
  return env;
}

}  // namespace segtune
