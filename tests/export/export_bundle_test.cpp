// `segtune export` (bundle, bad inputs) and `segtune inspect` (table totals, TensorBoard graph).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "event.pb.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/tfrecord.h"
#include "segtune/export/semantic_bundle.h"
#include "segtune/export/export_model.h"
#include "segtune/export/inspect.h"
#include "segtune/models/semantic_registry.h"
#include "segtune/models/weights.h"
#include "test_util.h"

namespace segtune {
namespace {

using testing::TempDir;

std::filesystem::path SaveCheckpoint(const std::string& model_name, int64_t classes, const std::filesystem::path& path) {
  torch::manual_seed(5);
  SemanticModel model = CreateSemanticModel(model_name, classes, false);
  NamedTensors tensors;
  for (const auto& p : model->named_parameters()) tensors.items.emplace_back(p.key(), p.value().detach());
  for (const auto& b : model->named_buffers()) tensors.items.emplace_back(b.key(), b.value().detach());
  SaveSafetensors(tensors, path);
  return path;
}

TEST(Export, WritesBundleThatLoadsBackWithTheSameOutputs) {
  TempDir dir;
  ExportOptions r;
  r.model_name = "lraspp_mobilenet_v3_large";
  r.checkpoint = SaveCheckpoint(r.model_name, 3, dir / "ckpt-12.safetensors");
  r.output_dir = dir / "exported";
  ExportModel(r);
  for (const char* f : {"model.onnx", "model.safetensors", "model.json"}) EXPECT_TRUE(std::filesystem::exists(dir / "exported" / f)) << f;
  SemanticBundle bundle = LoadSemanticBundle(dir / "exported");
  EXPECT_EQ(bundle.metadata.architecture, r.model_name);
  EXPECT_EQ(bundle.metadata.num_classes, 3);
  EXPECT_EQ(bundle.metadata.checkpoint_step, 12);
  torch::manual_seed(5);
  SemanticModel original = CreateSemanticModel(r.model_name, 3, false);
  original->eval();
  const torch::Tensor x = torch::randn({1, 3, 64, 64});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(bundle.model->forward(x).out, original->forward(x).out));
}

TEST(Export, CheckpointOfAnotherArchitectureFailsAndLeavesNothing) {
  TempDir dir;
  ExportOptions r;
  r.model_name = "deeplabv3_mobilenet_v3_large";
  r.num_classes = 3;
  r.checkpoint = SaveCheckpoint("lraspp_mobilenet_v3_large", 3, dir / "lraspp.safetensors");
  r.output_dir = dir / "exported";
  try {
    ExportModel(r);
    FAIL() << "expected an error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit deeplabv3_mobilenet_v3_large"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "exported"));
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename(), "lraspp.safetensors") << "left behind: " << entry.path();
  }
}

TEST(Export, MissingConfigAndUnwritableOutputGiveClearErrors) {
  TempDir dir;
  ExportOptions r;
  r.pipeline_config = dir / "missing.config";
  r.checkpoint = SaveCheckpoint("lraspp_mobilenet_v3_large", 3, dir / "c.safetensors");
  r.output_dir = dir / "out";
  EXPECT_THROW(
      try { ExportModel(r); } catch (const IoError& e) {
        EXPECT_NE(std::string(e.what()).find("missing.config"), std::string::npos);
        throw;
      },
      IoError);
  r.pipeline_config.clear();
  r.model_name = "lraspp_mobilenet_v3_large";
  std::filesystem::create_directories(dir / "readonly");
  std::filesystem::permissions(dir / "readonly", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  r.output_dir = dir / "readonly" / "out";
  if (::geteuid() != 0) {  // root ignores directory permissions.
    EXPECT_THROW(ExportModel(r), IoError);
    EXPECT_FALSE(std::filesystem::exists(r.output_dir));
  }
  std::filesystem::permissions(dir / "readonly", std::filesystem::perms::owner_all);
  r.output_dir = dir / "c.safetensors" / "out";  // A file where a directory should be: unwritable for root too.
  EXPECT_THROW(ExportModel(r), IoError);
}

// issue 18 item 2: an existing --output-dir that is not a previous export (a dataset folder, a file)
// is never deleted, with or without --overwrite; a previous export is replaced only with --overwrite.
TEST(Export, NeverReplacesAnExistingDirectoryOrFileThatIsNotAnExport) {
  TempDir dir;
  ExportOptions r;
  r.model_name = "lraspp_mobilenet_v3_large";
  r.checkpoint = SaveCheckpoint(r.model_name, 3, dir / "ckpt-1.safetensors");
  std::filesystem::create_directories(dir / "dataset");
  WriteFileAtomic(dir / "dataset" / "train.json", "precious");
  WriteFileAtomic(dir / "notes.txt", "precious too");
  for (const bool overwrite : {false, true}) {
    for (const char* target : {"dataset", "notes.txt"}) {
      r.output_dir = dir / target;
      r.overwrite = overwrite;
      try {
        ExportModel(r);
        FAIL() << "expected UsageError for " << target;
      } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find((dir / target).string() + ": exists"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("choose another --output-dir"), std::string::npos) << e.what();
      }
    }
  }
  EXPECT_EQ(ReadFile(dir / "dataset" / "train.json"), "precious");
  EXPECT_EQ(ReadFile(dir / "notes.txt"), "precious too");
  const auto cli = testing::RunSegtune("export --model lraspp_mobilenet_v3_large --checkpoint '" +
                                       (dir / "ckpt-1.safetensors").string() + "' --output-dir '" +
                                       (dir / "dataset").string() + "' --overwrite");
  EXPECT_EQ(cli.exit_code, 2) << cli.output;
  EXPECT_NE(cli.output.find("is not a segtune export output (no model.json)"), std::string::npos) << cli.output;
  EXPECT_EQ(ReadFile(dir / "dataset" / "train.json"), "precious");
}

TEST(Export, ReplacesAPreviousExportOnlyWithOverwrite) {
  TempDir dir;
  ExportOptions r;
  r.model_name = "lraspp_mobilenet_v3_large";
  r.checkpoint = SaveCheckpoint(r.model_name, 3, dir / "ckpt-1.safetensors");
  r.output_dir = dir / "exported";
  ExportModel(r);
  r.checkpoint = SaveCheckpoint(r.model_name, 3, dir / "ckpt-2.safetensors");
  try {
    ExportModel(r);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("pass --overwrite"), std::string::npos) << e.what();
  }
  EXPECT_EQ(LoadSemanticBundle(r.output_dir).metadata.checkpoint_step, 1);
  r.overwrite = true;
  ExportModel(r);
  EXPECT_EQ(LoadSemanticBundle(r.output_dir).metadata.checkpoint_step, 2);
}

TEST(Inspect, ExportDirectoryUsesTheExportedInputSizeFromModelJson) {
  TempDir dir;
  ExportOptions r;
  r.model_name = "lraspp_mobilenet_v3_large";
  r.checkpoint = SaveCheckpoint(r.model_name, 3, dir / "ckpt-1.safetensors");
  r.output_dir = dir / "exported";
  r.fixed_size = {{96, 64}};
  ExportModel(r);
  ASSERT_TRUE(LoadSemanticBundle(r.output_dir).metadata.input_size.has_value());
  EXPECT_EQ(*LoadSemanticBundle(r.output_dir).metadata.input_size, std::make_pair(int64_t{96}, int64_t{64}));

  InspectOptions request;
  request.model = r.output_dir;
  const InspectResult result = Inspect(request);
  EXPECT_EQ(result.input_size, std::make_pair(int64_t{96}, int64_t{64}));
  EXPECT_NE(result.table.title.find("96x64 (model.json)"), std::string::npos) << result.table.title;
  request.input_size = {{32, 32}};  // An explicit --input-size wins.
  EXPECT_EQ(Inspect(request).input_size, std::make_pair(int64_t{32}, int64_t{32}));

  const testing::CommandResult cli = testing::RunSegtune("inspect '" + r.output_dir.string() + "'");
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("96x64"), std::string::npos) << cli.output;
  EXPECT_EQ(cli.output.find("520x520"), std::string::npos) << cli.output;
}

TEST(Inspect, ExportDirectoryFromAFixedShapeConfigShowsTheTrainingSize) {
  TempDir dir;
  WriteFileAtomic(dir / "pipeline.config",
                  "model { segmentation { architecture: \"lraspp_mobilenet_v3_large\" num_classes: 3\n"
                  "  image_resizer { fixed_shape_resizer { height: 128 width: 80 } } } }\n");
  ExportOptions r;
  r.pipeline_config = dir / "pipeline.config";
  r.checkpoint = SaveCheckpoint("lraspp_mobilenet_v3_large", 3, dir / "ckpt-2.safetensors");
  r.output_dir = dir / "exported";
  ExportModel(r);  // Dynamic ONNX graph: the size comes from the config alone.
  InspectOptions request;
  request.model = r.output_dir;
  EXPECT_EQ(Inspect(request).input_size, std::make_pair(int64_t{128}, int64_t{80}));
}

TEST(Inspect, EventGraphHasEveryLayerScopeAndParameterTotalMatchesModel) {
  TempDir dir;
  InspectOptions r;
  r.model_name = "lraspp_mobilenet_v3_large";
  r.num_classes = 5;
  r.input_size = {64, 64};
  r.log_dir = dir / "logs";
  const InspectResult result = Inspect(r);
  EXPECT_EQ(result.table.total_params, result.model_parameters);
  EXPECT_EQ(result.model_parameters, CountParameters(*CreateSemanticModel(r.model_name, 5, false)));

  const std::vector<std::string> records = ReadAllRecords(result.event_file);
  ASSERT_GE(records.size(), 2u);
  tensorboard::Event first, graph_event;
  ASSERT_TRUE(first.ParseFromString(records[0]));
  EXPECT_EQ(first.file_version(), "brain.Event:2");
  ASSERT_TRUE(graph_event.ParseFromString(records[1]));
  tensorboard::GraphDef graph;
  ASSERT_TRUE(graph.ParseFromString(graph_event.graph_def()));
  std::set<std::string> names;
  for (const auto& node : graph.node()) {
    names.insert(node.name());
    EXPECT_TRUE(node.attr().count("_output_shapes")) << node.name();
  }
  for (const auto& row : result.table.rows) {
    const bool found = std::any_of(names.begin(), names.end(), [&](const std::string& n) { return n.rfind(row.scope + "/", 0) == 0; });
    EXPECT_TRUE(found) << "no graph node under scope " << row.scope;
  }
  EXPECT_TRUE(names.count("input/image"));
  EXPECT_TRUE(names.count("output/logits"));
  EXPECT_TRUE(std::any_of(names.begin(), names.end(), [](const std::string& n) { return n.rfind("backbone/", 0) == 0; }));
  EXPECT_TRUE(std::any_of(names.begin(), names.end(), [](const std::string& n) { return n.rfind("classifier/", 0) == 0; }));
}

}  // namespace
}  // namespace segtune
