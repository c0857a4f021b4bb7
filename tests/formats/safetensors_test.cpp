// .safetensors, the format alone (formats/safetensors.h): the reader's validation rules and the
// reference writer's layout, over raw bytes. The torch side is tests/models/safetensors_test.cpp.
#include <gtest/gtest.h>

#include <cstring>

#include "segtune/core/error.h"
#include "segtune/formats/safetensors.h"

namespace segtune {
namespace {

// The raw file: 8-byte length, header, data.
std::string File(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
  return out + header + data;
}

// A file of three tensors as the writer lays it out: I64 [2], F32 [2, 1], BOOL [] with metadata.
std::string ThreeTensorFile() {
  const std::vector<SafetensorsTensor> tensors = {
      {"w", TensorDtype::kF32, {2, 1}, {}}, {"flag", TensorDtype::kBool, {}, {}}, {"count", TensorDtype::kI64, {2}, {}}};
  const SafetensorsLayout layout = PlanSafetensors(tensors, {{"format", "pt"}});
  std::string file = layout.head;
  for (size_t i : layout.order) {
    if (tensors[i].name == "count") file += std::string("\x05\0\0\0\0\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff", 16);
    if (tensors[i].name == "w") file += std::string("\0\0\x80\x3f\0\0\0\x40", 8);  // 1.0f, 2.0f
    if (tensors[i].name == "flag") file += std::string("\x01", 1);
  }
  return file;
}

TEST(SafetensorsFormat, ParsesNamesDtypesShapesAndByteSpansInDataOrder) {
  const std::string file = ThreeTensorFile();
  const SafetensorsContents contents = ParseSafetensorsContents(file, "three.safetensors");
  EXPECT_EQ(contents.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(contents.tensors.size(), 3u);
  EXPECT_EQ(contents.tensors[0].name, "count");
  EXPECT_EQ(contents.tensors[0].dtype, TensorDtype::kI64);
  EXPECT_EQ(contents.tensors[0].shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(contents.tensors[0].data.size(), 16u);
  EXPECT_EQ(contents.tensors[1].name, "w");
  EXPECT_EQ(contents.tensors[1].data, std::string_view("\0\0\x80\x3f\0\0\0\x40", 8));
  EXPECT_EQ(contents.tensors[1].data.data(), file.data() + file.size() - 9);  // A view, not a copy.
  EXPECT_EQ(contents.tensors[2].name, "flag");
  EXPECT_TRUE(contents.tensors[2].shape.empty());
  EXPECT_EQ(contents.tensors[2].data, "\x01");
}

TEST(SafetensorsFormat, EmptyFileMatchesReferenceVector) {
  EXPECT_EQ(PlanSafetensors({}, {}).head, File("{}      ", ""));
}

TEST(SafetensorsFormat, LayoutOrdersByDtypeThenNameAndPadsHeader) {
  const std::vector<SafetensorsTensor> tensors = {{"z", TensorDtype::kF32, {1}, {}}, {"b", TensorDtype::kU8, {1}, {}},
                                                  {"a", TensorDtype::kF32, {1}, {}}, {"i", TensorDtype::kI64, {1}, {}}};
  const SafetensorsLayout layout = PlanSafetensors(tensors, {{"k", "v"}});
  EXPECT_EQ(layout.order, (std::vector<size_t>{3, 2, 0, 1}));  // I64, then F32 by name, then U8.
  EXPECT_EQ((layout.head.size() - 8) % 8, 0u);
  EXPECT_EQ(layout.head.substr(8).rfind("{\"__metadata__\":{\"k\":\"v\"},\"i\":{\"dtype\":\"I64\"", 0), 0u) << layout.head;
  EXPECT_THROW(PlanSafetensors({{"x", TensorDtype::kF32, {}, {}}, {"x", TensorDtype::kI8, {}, {}}}, {}), UsageError);
}

struct BadCase {
  const char* label;
  std::string bytes;
  const char* message;  // A fragment the error must contain.
};

TEST(SafetensorsFormat, RejectsInvalidFilesWithClearErrors) {
  const std::string f32x2 = std::string(8, '\0');
  const std::vector<BadCase> cases = {
      {"too short", "abc", "too short"},
      {"header past end", File("{}", "").substr(0, 9), "past the end"},
      {"huge header", std::string("\xff\xff\xff\xff\x00\x00\x00\x00", 8) + "{}", "exceeds 100,000,000"},
      {"not json", File("{nope}  ", ""), "invalid JSON"},
      {"not an object start", File("[1]     ", ""), "does not start with '{'"},
      {"duplicate", File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", f32x2), "header: tensor 'a' appears twice"},
      {"unknown dtype", File(R"({"a":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}})", f32x2), "tensor 'a': unknown dtype"},
      {"unsupported dtype", File(R"({"a":{"dtype":"U16","shape":[4],"data_offsets":[0,8]}})", f32x2), "tensor 'a': dtype U16 has no libtorch"},
      {"size mismatch", File(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", f32x2), "expected 12"},
      {"gap", File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", f32x2), "expected 0"},
      {"overlap", File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", f32x2), "no gaps or overlaps"},
      {"trailing bytes", File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", f32x2), "trailing"},
      {"negative shape", File(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", f32x2), "negative"},
      {"overflowing shape", File(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", f32x2), "too large"},
      {"metadata not strings", File(R"({"__metadata__":{"k":1}})", ""), "not a string"},
      {"missing offsets", File(R"({"a":{"dtype":"F32","shape":[2]}})", f32x2), "data_offsets"},
  };
  for (const BadCase& c : cases) {
    try {
      ParseSafetensorsContents(c.bytes, "bad.safetensors");
      ADD_FAILURE() << c.label << ": accepted";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << c.label << ": " << e.what();
      EXPECT_EQ(std::string(e.what()).rfind("bad.safetensors: ", 0), 0u) << c.label << ": " << e.what();
    }
  }
}

TEST(SafetensorsFormat, EveryTruncationIsAFormatError) {
  const std::string bytes = ThreeTensorFile();
  for (size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_THROW(ParseSafetensorsContents(std::string_view(bytes).substr(0, length), "cut.safetensors"), FormatError) << length;
  }
}

}  // namespace
}  // namespace segtune
