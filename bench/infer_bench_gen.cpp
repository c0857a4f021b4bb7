// Fixture for bench/infer_bench.sh: an export directory with a randomly initialised 21-class LR-ASPP
// (seeded) and a TFRecord of N generated 512x512 JPEGs.
//   infer_bench_gen WORK_DIR N [MODEL]   (MODEL: a registry name, default lraspp_mobilenet_v3_large)
#include <torch/torch.h>

#include <iostream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/formats/example.h"
#include "segtune/formats/tfrecord.h"
#include "segtune/export/semantic_bundle.h"
#include "segtune/models/semantic_registry.h"
#include "segtune/models/safetensors.h"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: infer_bench_gen WORK_DIR N [MODEL]\n";
    return 2;
  }
  const std::filesystem::path work = argv[1];
  const int n = std::stoi(argv[2]);
  torch::manual_seed(1);
  const std::string architecture = argc > 3 ? argv[3] : "lraspp_mobilenet_v3_large";
  auto model = segtune::CreateSemanticModel(architecture, 21);
  segtune::NamedTensors tensors;
  for (const auto& p : model->named_parameters()) tensors.items.emplace_back(p.key(), p.value().detach());
  for (const auto& b : model->named_buffers()) tensors.items.emplace_back(b.key(), b.value().detach());
  segtune::WriteFileAtomic(work / "model" / "model.safetensors", segtune::SerializeSafetensors(tensors));
  segtune::SemanticBundleMetadata meta;
  meta.architecture = architecture;
  meta.num_classes = 21;
  meta.class_names.assign(21, "");
  meta.class_names[0] = "background";
  meta.mean = model->info().mean;
  meta.std = model->info().std;
  meta.onnx_input_type = "float";
  meta.onnx_shape = "dynamic";
  segtune::WriteFileAtomic(work / "model" / "model.json", segtune::SemanticBundleMetadataToJson(meta));
  cv::RNG rng(7);
  segtune::TFRecordWriter writer(work / "test.record");
  for (int i = 0; i < n; ++i) {
    cv::Mat image(512, 512, CV_8UC3);
    cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
    cv::GaussianBlur(image, image, {9, 9}, 3);
    for (int k = 0; k < 4; ++k) {
      cv::circle(image, {rng.uniform(0, 512), rng.uniform(0, 512)}, rng.uniform(30, 120),
                 cv::Scalar(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)), cv::FILLED);
    }
    std::vector<uint8_t> jpeg;
    cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, 90});
    tensorflow::Example e;
    segtune::SetBytes(&e, "image/encoded", std::string(jpeg.begin(), jpeg.end()));
    segtune::SetBytes(&e, "image/format", "jpeg");
    segtune::SetBytes(&e, "image/filename", "img" + std::to_string(i) + ".jpg");
    segtune::SetBytes(&e, "image/source_id", std::to_string(i + 1));
    segtune::SetInt64(&e, "image/height", 512);
    segtune::SetInt64(&e, "image/width", 512);
    writer.Write(e.SerializeAsString());
  }
  writer.Close();
  std::cout << "wrote " << (work / "model").string() << " and " << n << " records\n";
  return 0;
}
