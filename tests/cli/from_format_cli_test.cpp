// `segtune validate --from FORMAT` and `segtune split --from FORMAT` (issue 21): another labeling
// tool's annotations read as `segtune convert` reads them (in the plugin), then validated (with the
// reader's warnings and the images where the layout puts them) or split into COCO JSON parts.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>


#include "segtune/core/atomic_file.h"
#include "segtune/formats/coco.h"
#include "data/yolo_fixture.h"
#include "test_util.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::RunSegtune;
using testing::TempDir;

std::string Quote(const fs::path& p) { return "'" + p.string() + "'"; }

bool Has(const CommandResult& r, const std::string& text) { return r.output.find(text) != std::string::npos; }

using testing::DarknetFixture;
using testing::UltralyticsFixture;
using testing::WriteSolidImage;

TEST(ValidateFrom, YoloDatasetIsValidatedWithTheReadersWarnings) {
  TempDir dir;
  const fs::path root = UltralyticsFixture(dir);
  const CommandResult r = RunSegtune("validate --from yolo " + Quote(root / "data.yaml"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Has(r, (root / "data.yaml").string() + " (yolo): 4 images, 3 categories, 6 annotations")) << r.output;
  // The reader's warning about the Ultralytics `download:` script it ignores, naming file and line.
  EXPECT_TRUE(Has(r, "warning: " + (root / "data.yaml").string() + ": line 13: key 'download' ignored")) << r.output;
  EXPECT_TRUE(Has(r, "no problems found")) << r.output;
  EXPECT_FALSE(Has(r, "image files not checked")) << "the layout says where the images are\n" << r.output;

  const CommandResult detected = RunSegtune("validate --from auto " + Quote(root));
  EXPECT_EQ(detected.exit_code, 0) << detected.output;
  EXPECT_TRUE(Has(detected, "(yolo): 4 images")) << detected.output;
}

TEST(ValidateFrom, MissingImagesOfTheLayoutAreProblemsAndMalformedLabelsNameTheFileAndLine) {
  TempDir dir;
  const fs::path root = DarknetFixture(dir);
  fs::remove(root / "data/obj/site2.jpg");
  const CommandResult r = RunSegtune("validate --from yolo " + Quote(root / "data/obj.data"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(Has(r, "error: missing image files: 1")) << r.output;
  EXPECT_TRUE(Has(r, "site2.jpg")) << r.output;

  WriteSolidImage(root / "data/obj/site2.jpg", 80, 40);
  WriteFileAtomic(root / "data/obj/site1.txt", "0 0.5 0.5 0.25 0.25\n7 0.25 0.25 0.125 0.125\n");
  const CommandResult bad = RunSegtune("validate --from yolo " + Quote(root / "data/obj.data"));
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_TRUE(Has(bad, (root / "data/obj/site1.txt").string() + ": line 2")) << bad.output;
}

TEST(ValidateFrom, FixWritesCocoAndNeverReplacesTheInputOfAnotherFormat) {
  TempDir dir;
  const fs::path root = UltralyticsFixture(dir);
  const std::string yaml = ReadFile(root / "data.yaml");
  const CommandResult refused =
      RunSegtune("validate --from yolo " + Quote(root / "data.yaml") + " --fix --overwrite -o " + Quote(root / "data.yaml"));
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(Has(refused, "is the input (read with --from yolo); --fix writes COCO JSON")) << refused.output;
  EXPECT_EQ(ReadFile(root / "data.yaml"), yaml);
  const CommandResult fixed = RunSegtune("validate --from yolo " + Quote(root / "data.yaml") + " --fix -o " + Quote(dir / "fixed.json"));
  EXPECT_EQ(fixed.exit_code, 0) << fixed.output;
  EXPECT_EQ(LoadCoco(dir / "fixed.json").images.size(), 4u);
}

TEST(SplitFrom, YoloIsSplitIntoDisjointCocoPartsWhoseUnionIsTheInput) {
  TempDir dir;
  const fs::path root = UltralyticsFixture(dir);
  const CommandResult r = RunSegtune("split --from yolo " + Quote(root / "data.yaml") +
                                     " --train 0.5 --val 0.25 --test 0.25 --seed 5 -o " + Quote(dir / "ds"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Has(r, "file_name values are relative to " + root.string())) << r.output;
  EXPECT_TRUE(Has(r, "own splits are not kept")) << r.output;
  std::multiset<std::string> names;
  size_t annotations = 0;
  for (const std::string part : {"train", "val", "test"}) {
    const fs::path file = dir / ("ds_" + part + ".json");
    EXPECT_TRUE(Has(r, "wrote " + file.string())) << r.output;
    const CocoDataset coco = LoadCoco(file);
    EXPECT_EQ(coco.categories.size(), 3u) << part;
    EXPECT_EQ(coco.images.size(), part == "train" ? 2u : 1u) << part;
    std::set<std::string> ids;
    for (const auto& image : coco.images) {
      names.insert(image.file_name);
      ids.insert(image.id.text);
    }
    for (const auto& a : coco.annotations) EXPECT_TRUE(ids.count(a.image_id.text)) << part << ": annotation follows its image";
    annotations += coco.annotations.size();
  }
  // Disjoint (each name once) and complete (every image of the input).
  EXPECT_EQ(names, (std::multiset<std::string>{"images/train/empty.png", "images/train/street.jpg",
                                               "images/train/sub/corner.png", "images/val/park.jpg"}));
  EXPECT_EQ(annotations, 6u);
}

TEST(SplitFrom, RefusesAForeignOutputBeforeReadingAndNamesAMalformedFile) {
  TempDir dir;
  const fs::path root = DarknetFixture(dir);
  WriteFileAtomic(dir / "ds_val.json", "my notes\n");
  const std::string args = "split --from auto " + Quote(root / "data/obj.data") + " -o " + Quote(dir / "ds");
  const CommandResult refused = RunSegtune(args);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(Has(refused, "split: " + (dir / "ds_val.json").string() + ": exists and is not a")) << refused.output;
  EXPECT_FALSE(fs::exists(dir / "ds_train.json"));
  fs::remove(dir / "ds_val.json");

  WriteFileAtomic(root / "data/obj/site3.txt", "0 0.5 0.5 nan 0.25\n");
  const CommandResult bad = RunSegtune(args);
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_TRUE(Has(bad, (root / "data/obj/site3.txt").string() + ": line 1")) << bad.output;
  EXPECT_FALSE(fs::exists(dir / "ds_train.json"));
}

}  // namespace
}  // namespace segtune
