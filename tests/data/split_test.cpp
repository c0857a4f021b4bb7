#include "segtune/data/split.h"

#include <gtest/gtest.h>

#include <set>

#include "segtune/core/error.h"
#include "test_util.h"

using segtune::CocoDataset;
using segtune::SplitByImage;
using segtune::SplitPart;
using segtune::testing::TempDir;

namespace {

CocoDataset MakeDataset(int images) {
  CocoDataset d;
  d.categories.push_back({1, "bottle", "waste", {}});
  d.categories.push_back({2, "can", "waste", {}});
  for (int i = 0; i < images; ++i) {
    segtune::CocoImage image;
    image.id = {"img" + std::to_string(i), false};
    image.file_name = "img" + std::to_string(i) + ".jpg";
    image.width = 64, image.height = 48;
    d.images.push_back(image);
    for (int k = 0; k < 2; ++k) {
      segtune::CocoAnnotation a;
      a.id = i * 2 + k + 1;
      a.image_id = image.id;
      a.category_id = 1 + k;
      a.bbox = {1, 1, 5, 5};
      a.area = 25;
      d.annotations.push_back(a);
    }
  }
  return d;
}

const std::vector<SplitPart> k811 = {{"train", 0.8}, {"val", 0.1}, {"test", 0.1}};

std::set<std::string> Ids(const CocoDataset& d) {
  std::set<std::string> ids;
  for (const auto& image : d.images) ids.insert(image.id.text);
  return ids;
}

}  // namespace

TEST(Split, PartsAreDisjointCoverEveryImageAndFollowTheFractions) {
  const CocoDataset d = MakeDataset(100);
  const auto parts = SplitByImage(d, k811, 7);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].images.size(), 80u);
  EXPECT_EQ(parts[1].images.size(), 10u);
  EXPECT_EQ(parts[2].images.size(), 10u);
  std::set<std::string> all;
  for (const auto& p : parts) {
    for (const auto& id : Ids(p)) EXPECT_TRUE(all.insert(id).second) << id << " in two parts";
    EXPECT_EQ(p.categories.size(), 2u);
    const auto ids = Ids(p);
    EXPECT_EQ(p.annotations.size(), 2 * p.images.size());
    for (const auto& a : p.annotations) EXPECT_TRUE(ids.count(a.image_id.text)) << "annotation left its image";
  }
  EXPECT_EQ(all, Ids(d));
}

TEST(Split, SameSeedSameSplitOtherSeedOtherSplit) {
  const CocoDataset d = MakeDataset(50);
  const auto a = SplitByImage(d, k811, 42), b = SplitByImage(d, k811, 42), c = SplitByImage(d, k811, 43);
  for (size_t p = 0; p < 3; ++p) EXPECT_EQ(Ids(a[p]), Ids(b[p]));
  EXPECT_NE(Ids(a[1]), Ids(c[1]));
}

TEST(Split, RejectsFractionsThatDoNotSumToOne) {
  const CocoDataset d = MakeDataset(10);
  EXPECT_THROW(SplitByImage(d, {{"train", 0.8}, {"val", 0.1}, {"test", 0.2}}, 1), segtune::UsageError);
  EXPECT_THROW(SplitByImage(d, {{"train", 1.2}, {"val", -0.2}, {"test", 0}}, 1), segtune::UsageError);
  EXPECT_NO_THROW(SplitByImage(d, {{"train", 0.7}, {"val", 0.2}, {"test", 0.1 + 5e-7}}, 1));
}

TEST(Split, SmallDatasetsStillGiveEveryImageToExactlyOnePart) {
  const CocoDataset d = MakeDataset(3);
  const auto parts = SplitByImage(d, k811, 5);
  EXPECT_EQ(parts[0].images.size() + parts[1].images.size() + parts[2].images.size(), 3u);
}

TEST(Split, CliWritesNonEmptyPartsOnlyAndPrintsCounts) {
  TempDir dir;
  segtune::SaveCoco(MakeDataset(20), dir / "all.json");
  const auto result = segtune::testing::RunSegtune("split '" + (dir / "all.json").string() +
                                                   "' --train 0.75 --val 0.25 --test 0 --seed 3 -o '" +
                                                   (dir / "ds").string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("train: 15 images, 30 annotations"), std::string::npos) << result.output;
  const CocoDataset train = segtune::LoadCoco(dir / "ds_train.json");
  const CocoDataset val = segtune::LoadCoco(dir / "ds_val.json");
  EXPECT_EQ(train.images.size(), 15u);
  EXPECT_EQ(val.images.size(), 5u);
  EXPECT_FALSE(std::filesystem::exists(dir / "ds_test.json"));
  const auto bad = segtune::testing::RunSegtune("split '" + (dir / "all.json").string() +
                                                "' --train 0.5 --val 0.1 --test 0.1 -o '" + (dir / "x").string() + "'");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("sum to"), std::string::npos) << bad.output;
}
