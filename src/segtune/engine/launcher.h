// `segtune train --nproc-per-node N`: starts N worker processes of this same executable on this host,
// each with torchrun's environment (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), and watches
// them. Torch-free.
//
// Signals: SIGINT/SIGTERM/SIGHUP received by the launcher are forwarded to every live worker (the
// trainer then finishes the step all ranks agree on, checkpoints and exits). Failure: when a worker exits
// non-zero or is killed, the others get `grace` to stop by themselves (they notice the lost peer through
// their collectives and exit with an error naming it), then are killed with SIGKILL.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace segtune {

struct LaunchOptions {
  int nproc = 2;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;                     // 0: a free port on master_addr, chosen now.
  std::chrono::seconds grace{30};          // After the first failure, before SIGKILL.
  std::vector<std::string> argv;           // Worker command line; empty: this process's (/proc/self/cmdline).
};

// Runs the workers to completion. Returns 0 when all exited 0, or the stop signal it forwarded when
// all stopped cleanly after it (each exits 128 + signal once its checkpoint is saved). Throws Error
// naming the first failed rank, its pid and exit status (or signal) otherwise, and IoError if a worker
// cannot be started.
int LaunchLocalWorkers(const LaunchOptions& options);

// A TCP port that is free on `address` right now (bind to port 0). Throws IoError.
int FreeTcpPort(const std::string& address = "127.0.0.1");

}  // namespace segtune
