// Fixture for bench/ddp_bench.sh: N generated SIZE x SIZE shape images in a TFRecord (the trainer tests'
// generator), a label map and a pipeline config (LR-ASPP, global batch BATCH, frozen BatchNorm, SGD).
//   ddp_bench_gen WORK_DIR N SIZE BATCH
#include <iostream>
#include <string>

#include "../tests/engine/train_fixture.h"
#include "segtune/core/atomic_file.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: ddp_bench_gen WORK_DIR N SIZE BATCH\n";
    return 2;
  }
  const std::filesystem::path work = argv[1];
  const int n = std::stoi(argv[2]), size = std::stoi(argv[3]), batch = std::stoi(argv[4]);
  std::filesystem::create_directories(work);
  segtune::testing::WriteShapesRecords(work / "train-00000-of-00001", n, size, 7);
  segtune::testing::WriteLabelMap(work / "label_map.pbtxt");
  const std::string s = std::to_string(size);
  segtune::WriteFileAtomic(
      work / "pipeline.config",
      "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 3\n"
      "  image_resizer { fixed_shape_resizer { height: " + s + " width: " + s + " } } } }\n"
      "train_config { batch_size: " + std::to_string(batch) + " seed: 1 freeze_batchnorm: true\n"
      "  log_every_n_steps: 5 checkpoint_every_n_steps: 0 image_summary_every_n_steps: 0\n"
      "  optimizer { momentum_optimizer { learning_rate { constant_learning_rate { learning_rate: 0.01 } }\n"
      "    momentum_optimizer_value: 0.9 } } }\n"
      "train_input_reader { label_map_path: 'label_map.pbtxt' tf_record_input_reader { input_path: 'train-*' } }\n");
  std::cout << "wrote " << n << " records and pipeline.config to " << work.string() << "\n";
  return 0;
}
