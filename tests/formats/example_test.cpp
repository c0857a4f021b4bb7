#include "segtune/formats/example.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "segtune/core/error.h"
#include "segtune/formats/tfrecord.h"
#include "test_util.h"

namespace segtune {
namespace {

using segtune::testing::RunPython;
using segtune::testing::SourcePath;
using segtune::testing::TempDir;

std::string Base64Decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t val = 0;  // Unsigned: the high bits shift out (an int overflowed, found by make test-asan).
  int bits = -8;
  for (char c : in) {
    const size_t d = chars.find(c);
    if (d == std::string::npos) break;
    val = (val << 6) + uint32_t(d);
    bits += 6;
    if (bits >= 0) {
      out.push_back(char((val >> bits) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

std::string ReferenceScript() { return SourcePath("tests/data/reference/tfrecord_reference.py"); }

// Compares one feature of `example` with the reference decoder's JSON for it.
void ExpectFeatureEquals(const tensorflow::Example& example, const std::string& key, const nlohmann::json& ref) {
  SCOPED_TRACE(key);
  const std::string kind = ref.at("kind");
  const auto& values = ref.at("value");
  if (kind == "bytes_list") {
    const auto got = GetBytesList(example, key, "test");
    ASSERT_EQ(got.size(), values.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], Base64Decode(values[i]));
  } else if (kind == "float_list") {
    const auto got = GetFloatList(example, key, "test");
    ASSERT_EQ(got.size(), values.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], values[i].get<float>());
  } else {
    ASSERT_EQ(kind, "int64_list");
    const auto got = GetInt64List(example, key, "test");
    ASSERT_EQ(got.size(), values.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], values[i].get<int64_t>());
  }
}

TEST(Example, RecordsWrittenBySegtuneDecodeWithPythonReference) {
  TempDir dir;
  std::vector<tensorflow::Example> written(3);
  std::string binary;
  for (int c = 0; c < 256; ++c) binary.push_back(char(c));
  for (int i = 0; i < 3; ++i) {
    auto& ex = written[i];
    SetInt64(&ex, "image/height", 480 + i);
    SetInt64List(&ex, "image/object/class/label", {1, -2, int64_t(1) << 40, i});
    SetFloatList(&ex, "image/object/bbox/xmin", {0.1f, 0.333333f, 1e-30f, float(i)});
    SetBytes(&ex, "image/encoded", binary);
    SetBytesList(&ex, "image/object/class/text", {"cat", "", "caf\xc3\xa9"});
    SetFloatList(&ex, "empty/floats", {});
  }
  TFRecordWriter writer(dir / "out.record");
  for (const auto& ex : written) writer.Write(ex.SerializeAsString());
  writer.Close();

  const auto result = RunPython(ReferenceScript() + " dump " + (dir / "out.record").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto records = nlohmann::json::parse(result.output);
  ASSERT_EQ(records.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const auto& features = records[i].at("features");
    ASSERT_EQ(features.size(), written[i].features().feature_size());
    for (const auto& [key, ref] : features.items()) ExpectFeatureEquals(written[i], key, ref);
  }
}

TEST(Example, ReadsTensorFlowLayoutWithUnpackedListsAndOtherKeyOrder) {
  TempDir dir;
  const auto result = RunPython(ReferenceScript() + " write-tf-layout " + (dir / "tf.record").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto expected = nlohmann::json::parse(result.output);
  const auto records = ReadAllRecords(dir / "tf.record");
  ASSERT_EQ(records.size(), 1u);
  const tensorflow::Example ex = ParseExample(records[0], "tf.record: record 0");
  ASSERT_EQ(ex.features().feature_size(), expected.size());
  for (const auto& [key, ref] : expected.items()) ExpectFeatureEquals(ex, key, ref);
  EXPECT_EQ(GetInt64List(ex, "image/object/class/label", "t"), (std::vector<int64_t>{17, -3}));
}

TEST(Example, WrongKindNamesKeyAndBothKinds) {
  tensorflow::Example ex;
  SetBytes(&ex, "image/height", "480");
  try {
    GetInt64(ex, "image/height", "train.record: record 7");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_STREQ(e.what(), "train.record: record 7: image/height: expected int64_list, found bytes_list");
  }
}

TEST(Example, MissingKeyIsEmptyAndMultipleValuesForSingleIsError) {
  tensorflow::Example ex;
  EXPECT_FALSE(GetInt64(ex, "image/height", "s").has_value());
  EXPECT_TRUE(GetFloatList(ex, "x", "s").empty());
  SetInt64List(&ex, "image/width", {1, 2});
  EXPECT_THROW(GetInt64(ex, "image/width", "s"), FormatError);
}

TEST(Example, GarbageBytesAreFormatError) { EXPECT_THROW(ParseExample("\xff\xff\xff", "x"), FormatError); }

TEST(Example, SerializeExampleWritesFeaturesInKeyOrderWhateverTheInsertionOrder) {
  const std::vector<std::string> keys = {"image/width", "image/encoded", "image/height", "a", "image/source_id", "z/last"};
  tensorflow::Example forward, backward;
  for (size_t i = 0; i < keys.size(); ++i) SetInt64(&forward, keys[i], int64_t(i));
  for (size_t i = keys.size(); i-- > 0;) SetInt64(&backward, keys[i], int64_t(i));
  const std::string bytes = SerializeExample(forward);
  EXPECT_EQ(bytes, SerializeExample(backward));
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  size_t previous = 0;
  for (const std::string& key : sorted) {
    const size_t at = bytes.find(key);
    ASSERT_NE(at, std::string::npos) << key;
    EXPECT_GE(at, previous) << key << " is out of key order";
    previous = at;
  }
  const tensorflow::Example back = ParseExample(bytes, "test");
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(GetInt64(back, keys[i], "test"), int64_t(i)) << keys[i];
}

}  // namespace
}  // namespace segtune

