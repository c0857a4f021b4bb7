// Where this process sits in a data-parallel job, read from torchrun's environment variables, so the
// launchers clusters already have (torchrun-style scripts, Slurm srun wrappers, Kubernetes jobs) work:
//
//   RANK          this process's rank, 0 .. WORLD_SIZE-1 (rank 0 hosts the rendezvous store)
//   WORLD_SIZE    number of processes in the job
//   LOCAL_RANK    rank on this host (informational on CPU)
//   MASTER_ADDR   host of rank 0 (default 127.0.0.1)
//   MASTER_PORT   TCP port of the rendezvous store on MASTER_ADDR (default 29500)
//
// Torch-free: the CLI and the launcher read it without touching c10d.
#pragma once

#include <string>

namespace segtune {

struct DistributedEnv {
  int rank = 0;
  int world_size = 1;  // 1: not distributed.
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // Not from the environment: `train --sync-batch-norm`. BatchNorm statistics over the global batch
  // (DataParallelGroup::SynchroniseBatchNorm) instead of each rank's slice.
  bool sync_batch_norm = false;

  bool active() const { return world_size > 1; }
};

// Reads the variables above. Neither RANK nor WORLD_SIZE set: world_size 1. Throws UsageError naming the
// variable when a value is not a number, out of range, or only one of RANK / WORLD_SIZE is set.
DistributedEnv DistributedEnvFromEnvironment();

}  // namespace segtune
