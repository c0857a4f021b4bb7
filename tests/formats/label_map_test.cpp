#include "segtune/formats/label_map.h"

#include <gtest/gtest.h>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/coco.h"
#include "test_util.h"

namespace segtune {
namespace {

using segtune::testing::RunSegtune;
using segtune::testing::TempDir;

void ExpectCatAndDog(const LabelMap& map) {
  ASSERT_EQ(map.item_size(), 2);
  EXPECT_EQ(map.item(0).name(), "cat");
  EXPECT_EQ(map.item(0).id(), 1);
  EXPECT_EQ(map.item(1).name(), "dog");
  EXPECT_EQ(map.item(1).id(), 2);
}

TEST(LabelMap, AcceptsEveryTextVariantOfFormatsSection4) {
  const char* variants[] = {
      "item {\n  name: \"cat\"\n  id: 1\n}\nitem {\n  name: \"dog\"\n  id: 2\n}\n",
      "item { name: 'cat' id: 1 } item { name: 'dog' id: 2 }",
      "item: { name: \"cat\", id: 1 }\nitem: { name: \"dog\"; id: 2 }",
      "item < name: \"cat\" id: 1 >\nitem < name: \"dog\" id: 2 >",
      "# a comment\nitem {\n  name: 'ca' \"t\"  # concatenated\n  id: 1\n}\n# another\nitem { name: \"dog\" id: 2 }",
      "item {\n  id: 1\n  name: \"cat\"\n  display_name: \"Cat\"\n}\nitem {\n  id: 2\n  name: \"dog\"\n}\n",
  };
  for (const char* text : variants) {
    SCOPED_TRACE(text);
    ExpectCatAndDog(ParseLabelMap(text, "map.pbtxt"));
  }
}

TEST(LabelMap, FallsBackToBinary) {
  const std::string binary("\x0a\x07\x0a\x03" "cat" "\x10\x01", 9);
  const LabelMap map = ParseLabelMap(binary, "map.pb");
  ASSERT_EQ(map.item_size(), 1);
  EXPECT_EQ(map.item(0).name(), "cat");
  EXPECT_EQ(map.item(0).id(), 1);
}

TEST(LabelMap, SyntaxErrorNamesLine) {
  try {
    ParseLabelMap("item {\n  name: \"cat\"\n  idd: 1\n}\n", "map.pbtxt");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("map.pbtxt: line 3"), std::string::npos) << e.what();
  }
}

TEST(LabelMap, ValidationReportsBadAndDuplicateIds) {
  const LabelMap map = ParseLabelMap(
      "item { name: 'background' id: 0 } item { name: 'x' id: 0 } item { name: 'y' id: -1 }"
      "item { name: 'a' id: 3 } item { name: 'b' id: 3 } item { name: 'a' id: 4 } item { name: 'noid' }",
      "m");
  const LabelMapProblems p = ValidateLabelMap(map);
  ASSERT_EQ(p.errors.size(), 3u);
  EXPECT_NE(p.errors[0].find("id 0 is reserved"), std::string::npos);
  EXPECT_NE(p.errors[1].find("negative"), std::string::npos);
  EXPECT_NE(p.errors[2].find("missing id"), std::string::npos);
  // Duplicate id 0 (background and x), id 3, and name "a".
  EXPECT_EQ(p.warnings.size(), 3u);
}

TEST(LabelMap, LoadThrowsListingErrors) {
  TempDir dir;
  WriteFileAtomic(dir / "bad.pbtxt", "item { name: 'x' id: 0 }");
  EXPECT_THROW(LoadLabelMap(dir / "bad.pbtxt"), FormatError);
}

TEST(LabelMap, CanonicalTextRoundTrips) {
  const LabelMap map = ParseLabelMap(
      "item < name: 'c\"at' id: 1 display_name: 'Cat' ancestor_ids: 5 frequency: RARE >", "m");
  const std::string text = LabelMapToText(map);
  EXPECT_EQ(text.rfind("item {\n  id: 1\n  name: \"c\\\"at\"\n  display_name: \"Cat\"\n", 0), 0u) << text;
  const LabelMap back = ParseLabelMap(text, "canonical");
  EXPECT_EQ(back.SerializeAsString(), map.SerializeAsString());
}

TEST(LabelMap, FromCocoUsesCategoryIdsAndNames) {
  const CocoDataset coco = ParseCoco(
      R"({"categories":[{"id":3,"name":"bottle"},{"id":7,"name":"can"}],"images":[],"annotations":[]})", "c");
  const LabelMap map = LabelMapFromCoco(coco);
  ASSERT_EQ(map.item_size(), 2);
  EXPECT_EQ(map.item(1).id(), 7);
  EXPECT_EQ(map.item(1).name(), "can");
  EXPECT_EQ(LabelMapNameToId(map).at("bottle"), 3);
}

TEST(LabelMapCli, WritesLabelMapFromCoco) {
  TempDir dir;
  WriteFileAtomic(dir / "c.json", R"({"categories":[{"id":1,"name":"bottle"},{"id":2,"name":"can"}],
                                       "images":[],"annotations":[]})");
  const auto result = RunSegtune("labelmap " + (dir / "c.json").string() + " -o " + (dir / "m.pbtxt").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const LabelMap map = LoadLabelMap(dir / "m.pbtxt");
  ASSERT_EQ(map.item_size(), 2);
  EXPECT_EQ(map.item(0).name(), "bottle");
}

// Issue 18 item 3: protobuf's TextFormat skips an unknown field by recursing once per level, without a
// limit; 20,000 levels (~100 KB) overflowed the stack.
TEST(LabelMap, DeepNestingIsAnErrorNamingFileLineAndLimit) {
  std::string text = "item { id: 1 name: 'a' }\nitem { id: 2\n  unknown_field {";
  for (int i = 0; i < 20000; ++i) text += " a {";
  for (int i = 0; i < 20001; ++i) text += " }";
  text += " }\n";
  try {
    ParseLabelMap(text, "deep.pbtxt");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("deep.pbtxt: line 3: nesting deeper than 100 levels"), std::string::npos)
        << e.what();
  }
}

// Issue 18 item 8: a COCO category id 2^40 was written to the label map as `id: 0` (background).
TEST(LabelMap, LabelmapVerbRefusesACategoryIdThatDoesNotFitInsteadOfWritingId0) {
  TempDir dir;
  WriteFileAtomic(dir / "c.json", R"({"images":[],"annotations":[],
      "categories":[{"id":1,"name":"bottle"},{"id":1099511627776,"name":"can"}]})");
  const auto result = RunSegtune("labelmap " + (dir / "c.json").string() + " -o " + (dir / "m.pbtxt").string());
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find((dir / "c.json").string() + ": categories[1].id: 1099511627776 is out of range"),
            std::string::npos) << result.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "m.pbtxt"));
}

}  // namespace
}  // namespace segtune
