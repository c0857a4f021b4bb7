#include "segtune/formats/coco.h"

#include <gtest/gtest.h>

#include <cmath>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "test_util.h"

namespace segtune {
namespace {

using segtune::testing::TempDir;

const char* kStringIds = R"({
  "info": {"description": "labelbox"},
  "images": [{"id": "ckq1abc", "file_name": "a.jpg", "width": 40, "height": 30, "coco_url": "http://x/a.jpg",
              "license": 3, "date_captured": null}],
  "categories": [{"id": 1, "name": "bottle", "supercategory": "waste"}],
  "annotations": [{"id": 5, "image_id": "ckq1abc", "category_id": 1, "segmentation": [[1, 1, 10, 1, 10, 8]],
                   "area": 31.5, "bbox": [1, 1, 9, 7], "iscrowd": 0, "labeler": "ann"}]
})";

TEST(Coco, StringImageIdsRoundTrip) {
  const CocoDataset d = ParseCoco(kStringIds, "t.json");
  ASSERT_EQ(d.images.size(), 1u);
  EXPECT_EQ(d.images[0].id.text, "ckq1abc");
  EXPECT_FALSE(d.images[0].id.is_number);
  EXPECT_EQ(d.images[0].extra.at("license"), 3);
  EXPECT_EQ(d.annotations[0].image_id, d.images[0].id);
  EXPECT_EQ(d.annotations[0].extra.at("labeler"), "ann");

  const std::string json = CocoToJson(d);
  const auto parsed = nlohmann::json::parse(json);
  EXPECT_EQ(parsed["images"][0]["id"], "ckq1abc");
  EXPECT_EQ(parsed["annotations"][0]["image_id"], "ckq1abc");
  EXPECT_TRUE(parsed["images"][0]["date_captured"].is_null());
  const CocoDataset again = ParseCoco(json, "again");
  EXPECT_EQ(again.images[0].id.text, "ckq1abc");
  EXPECT_EQ(again.annotations[0].segmentation.polygons, d.annotations[0].segmentation.polygons);
  EXPECT_EQ(again.annotations[0].bbox, d.annotations[0].bbox);
  EXPECT_EQ(again.info, d.info);
}

TEST(Coco, NumericIdsStayNumbers) {
  const CocoDataset d = ParseCoco(
      R"({"images":[{"id":42,"file_name":"a.png","width":4,"height":2}],"categories":[],"annotations":[]})", "t");
  EXPECT_TRUE(d.images[0].id.is_number);
  EXPECT_EQ(d.images[0].id.text, "42");
  EXPECT_EQ(nlohmann::json::parse(CocoToJson(d))["images"][0]["id"], 42);
}

TEST(Coco, ReadsUncompressedAndCompressedRle) {
  const CocoDataset d = ParseCoco(R"({"images":[],"categories":[],"annotations":[
     {"id":1,"image_id":1,"category_id":1,"iscrowd":1,"area":2,"bbox":[0,0,1,2],
      "segmentation":{"size":[2,3],"counts":[2,3,1]}},
     {"id":2,"image_id":1,"category_id":1,"iscrowd":1,"area":2,"bbox":[0,0,1,2],
      "segmentation":{"size":[2,3],"counts":"231"}}]})",
                                  "t");
  ASSERT_TRUE(d.annotations[0].segmentation.rle);
  EXPECT_EQ(d.annotations[0].segmentation.rle->counts, (std::vector<uint32_t>{2, 3, 1}));
  ASSERT_TRUE(d.annotations[1].segmentation.rle);
  EXPECT_EQ(d.annotations[1].segmentation.rle->counts, (std::vector<uint32_t>{2, 3, 1}));
  EXPECT_TRUE(d.annotations[0].iscrowd);
  // Written back compressed.
  const auto j = nlohmann::json::parse(CocoToJson(d));
  EXPECT_EQ(j["annotations"][0]["segmentation"]["counts"], "231");
  EXPECT_EQ(j["annotations"][0]["segmentation"]["size"], nlohmann::json::parse("[2,3]"));
}

TEST(Coco, ErrorsNameTheElement) {
  const std::string bad = R"({"images":[],"categories":[],"annotations":[
     {"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1]}]})";
  try {
    ParseCoco(bad, "d.json");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_STREQ(e.what(), "d.json: annotations[0].bbox: expected 4 numbers [x, y, width, height], found 3");
  }
  EXPECT_THROW(ParseCoco(R"({"images":[{"file_name":"x"}]})", "d"), FormatError);
  EXPECT_THROW(ParseCoco("{not json", "d"), FormatError);
  try {
    ParseCoco(R"({"annotations":[{"id":1,"image_id":1,"category_id":"cat"}]})", "d");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("annotations[0].category_id"), std::string::npos) << e.what();
  }
}

// RLE run lengths are uint32 in pycocotools: a larger or fractional number used to be cast (undefined
// behaviour; fractions silently changed the runs). Found by fuzz_rle (tests/fuzz/corpus/rle/regression-*).
TEST(Coco, RleNumbersOutsideTheirRangeAreErrorsNotTruncated) {
  const auto annotation = [](const std::string& segmentation) {
    return R"({"images":[{"id":1,"file_name":"a.png","width":1,"height":1}],"categories":[{"id":1,"name":"c"}],
               "annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1],"area":1,"iscrowd":1,
               "segmentation":)" + segmentation + "}]}";
  };
  const auto message = [&](const std::string& segmentation) {
    try {
      ParseCoco(annotation(segmentation), "d.json");
    } catch (const FormatError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(R"({"size":[4294967297,1],"counts":[1]})"),
            "d.json: annotations[0].segmentation.size: expected integer sides from 0 to 2147483647, found 4294967297.0");
  EXPECT_EQ(message(R"({"size":[1,2],"counts":[1.5,0.5]})"),
            "d.json: annotations[0].segmentation.counts: run length 1.5 is not an integer from 0 to 4294967295");
  EXPECT_EQ(message(R"({"size":[1,1],"counts":[1e308]})"),
            "d.json: annotations[0].segmentation.counts: run length 1e+308 is not an integer from 0 to 4294967295");
  EXPECT_EQ(message(R"({"size":[1,1],"counts":[-1]})"), "d.json: annotations[0].segmentation.counts: negative run length");
  EXPECT_EQ(message(R"({"size":[2147483647,1],"counts":[2147483647]})"), "no error");  // The largest still read.
}

// Numbers are written in their shortest exact form (integral values with ".0", as before), and a
// list long enough to be written on several threads keeps its order.
TEST(Coco, WrittenNumbersReadBackExactlyAndLongListsKeepTheirOrder) {
  CocoDataset d;
  d.categories.push_back({1, "c", "", {}});
  d.images.push_back({{"1", true}, "a.jpg", 640, 480, "", "", {}});
  const std::vector<double> values = {0.1, 1.0 / 3.0, 2.0, -0.0, 1e-7, 123456789.125, 5e15, 0.30000000000000004};
  for (int i = 0; i < 5000; ++i) {
    CocoAnnotation a;
    a.id = i + 1;
    a.image_id = {"1", true};
    a.category_id = 1;
    a.bbox = {values[i % values.size()], double(i), 3, 4};
    a.area = i + 0.5;
    a.segmentation.polygons.push_back({values[i % values.size()], 1, 2, 3, 4.25, double(i)});
    d.annotations.push_back(a);
  }
  const std::string text = CocoToJson(d);
  EXPECT_NE(text.find("\"area\":0.5,\"bbox\":[0.1,0.0,3.0,4.0]"), std::string::npos) << text.substr(0, 600);
  const CocoDataset back = ParseCoco(text, "t");
  ASSERT_EQ(back.annotations.size(), d.annotations.size());
  for (size_t i = 0; i < d.annotations.size(); ++i) {
    ASSERT_EQ(back.annotations[i].id, d.annotations[i].id);
    ASSERT_EQ(back.annotations[i].bbox, d.annotations[i].bbox) << i;
    ASSERT_EQ(back.annotations[i].area, d.annotations[i].area) << i;
    ASSERT_EQ(back.annotations[i].segmentation.polygons, d.annotations[i].segmentation.polygons) << i;
  }
  EXPECT_EQ(std::signbit(back.annotations[3].bbox[0]), true);  // -0.0 stays negative zero.
}

TEST(Coco, SaveAndLoadFile) {
  TempDir dir;
  CocoDataset d = ParseCoco(kStringIds, "t");
  SaveCoco(d, dir / "out.json");
  const CocoDataset back = LoadCoco(dir / "out.json");
  EXPECT_EQ(back.images.size(), 1u);
  EXPECT_EQ(back.categories[0].name, "bottle");
  EXPECT_EQ(back.categories[0].supercategory, "waste");
  EXPECT_DOUBLE_EQ(back.annotations[0].area, 31.5);
  EXPECT_THROW(LoadCoco(dir / "missing.json"), IoError);
}

TEST(Coco, ResultsFileFillsIdsAndBoxAreas) {
  TempDir dir;
  WriteFileAtomic(dir / "res.json", R"([{"image_id":3,"category_id":2,"bbox":[1,2,10,4],"score":0.75}])");
  const auto results = LoadCocoResults(dir / "res.json");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].id, 1);
  EXPECT_DOUBLE_EQ(results[0].area, 40);
  ASSERT_TRUE(results[0].score);
  EXPECT_DOUBLE_EQ(*results[0].score, 0.75);
}

// Issue 18 item 8: integers are range-checked where they are parsed, never wrapped or truncated.
std::string ErrorOf(const std::string& json) {
  try {
    ParseCoco(json, "big.json");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Coco, OutOfRangeIntegersAreErrorsNamingFileAndElement) {
  // 2^31 + 10 wrapped to -2147483638 (split wrote it back so); coco2tfrecord then ignored it.
  std::string e = ErrorOf(R"({"images":[{"id":1,"file_name":"a.jpg","width":2147483658,"height":10}]})");
  EXPECT_NE(e.find("big.json: images[0].width: 2147483658 is out of range (expected an integer from 0 to 2147483647)"),
            std::string::npos) << e;
  e = ErrorOf(R"({"images":[{"id":1,"file_name":"a.jpg","width":10,"height":-3}]})");
  EXPECT_NE(e.find("big.json: images[0].height: -3 is out of range"), std::string::npos) << e;
  // 2^63 + 5 turned negative.
  e = ErrorOf(R"({"annotations":[{"id":9223372036854775813,"image_id":1,"category_id":1,"bbox":[0,0,1,1]}]})");
  EXPECT_NE(e.find("big.json: annotations[0].id: 9223372036854775813 is out of range"), std::string::npos) << e;
  e = ErrorOf(R"({"annotations":[{"id":1e300,"image_id":1,"category_id":1,"bbox":[0,0,1,1]}]})");
  EXPECT_NE(e.find("big.json: annotations[0].id: 1e+300 is out of range"), std::string::npos) << e;
  e = ErrorOf(R"({"annotations":[{"id":"99999999999999999999","image_id":1,"category_id":1,"bbox":[0,0,1,1]}]})");
  EXPECT_NE(e.find("big.json: annotations[0].id: \"99999999999999999999\" is out of range"), std::string::npos) << e;
  // 2^40 became label-map id 0 (background); label map ids are int32.
  e = ErrorOf(R"({"categories":[{"id":1099511627776,"name":"cat"}]})");
  EXPECT_NE(e.find("big.json: categories[0].id: 1099511627776 is out of range (expected an integer from -2147483648 "
                   "to 2147483647)"),
            std::string::npos) << e;
  e = ErrorOf(R"({"annotations":[{"id":1,"image_id":1,"category_id":1099511627776,"bbox":[0,0,1,1]}]})");
  EXPECT_NE(e.find("big.json: annotations[0].category_id: 1099511627776 is out of range"), std::string::npos) << e;
  e = ErrorOf(R"({"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1],
                  "segmentation":{"size":[4294967297,1],"counts":[1]}}]})");
  EXPECT_NE(e.find("big.json: annotations[0].segmentation.size: expected integer sides from 0 to 2147483647"),
            std::string::npos) << e;
  // The largest values that fit are kept exactly; a huge numeric image id stays its own text.
  const CocoDataset d = ParseCoco(R"({"images":[{"id":18446744073709551615,"file_name":"a","width":2147483647,
      "height":1}],"categories":[{"id":2147483647,"name":"c"}],
      "annotations":[{"id":9223372036854775807,"image_id":18446744073709551615,"category_id":2147483647,
                      "bbox":[0,0,1,1]}]})", "ok.json");
  EXPECT_EQ(d.images[0].width, 2147483647);
  EXPECT_EQ(d.images[0].id.text, "18446744073709551615");
  EXPECT_EQ(d.categories[0].id, 2147483647);
  EXPECT_EQ(d.annotations[0].id, INT64_MAX);
}

TEST(Coco, ResultsFileCategoryIdOutOfRangeNamesTheResult) {
  TempDir dir;
  WriteFileAtomic(dir / "results.json",
                  R"([{"image_id":1,"category_id":1,"bbox":[0,0,1,1],"score":0.5},
                      {"image_id":1,"category_id":1099511627776,"bbox":[0,0,1,1],"score":0.5}])");
  try {
    LoadCocoResults(dir / "results.json");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "results.json").string() + ": results[1].category_id: 1099511627776 "
                                         "is out of range"),
              std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace segtune
