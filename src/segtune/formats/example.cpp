#include "segtune/formats/example.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "segtune/core/error.h"

namespace segtune {
namespace {

tensorflow::Feature* Mutable(tensorflow::Example* example, const std::string& key) {
  tensorflow::Feature& feature = (*example->mutable_features()->mutable_feature())[key];
  feature.Clear();
  return &feature;
}

// The feature under `key` if it holds `kind` (or is empty); nullptr if absent. Throws otherwise.
const tensorflow::Feature* Find(const tensorflow::Example& example, const std::string& key,
                                tensorflow::Feature::KindCase kind, const char* kind_name, const std::string& source) {
  const auto& map = example.features().feature();
  const auto it = map.find(key);
  if (it == map.end()) return nullptr;
  const tensorflow::Feature& feature = it->second;
  if (feature.kind_case() != kind && feature.kind_case() != tensorflow::Feature::KIND_NOT_SET) {
    throw FormatError(source + ": " + key + ": expected " + kind_name + ", found " + FeatureKindName(feature));
  }
  return &feature;
}

template <typename T>
std::optional<T> Single(std::vector<T> values, const std::string& key, const std::string& source) {
  if (values.empty()) return std::nullopt;
  if (values.size() > 1) {
    throw FormatError(source + ": " + key + ": expected one value, found " + std::to_string(values.size()));
  }
  return std::move(values[0]);
}

}  // namespace

std::string FeatureKindName(const tensorflow::Feature& feature) {
  switch (feature.kind_case()) {
    case tensorflow::Feature::kBytesList: return "bytes_list";
    case tensorflow::Feature::kFloatList: return "float_list";
    case tensorflow::Feature::kInt64List: return "int64_list";
    default: return "empty";
  }
}

void SetBytesList(tensorflow::Example* example, const std::string& key, const std::vector<std::string>& values) {
  auto* list = Mutable(example, key)->mutable_bytes_list();
  for (const auto& v : values) list->add_value(v);
}

void SetBytes(tensorflow::Example* example, const std::string& key, std::string_view value) {
  Mutable(example, key)->mutable_bytes_list()->add_value(std::string(value));
}

void SetFloatList(tensorflow::Example* example, const std::string& key, const std::vector<float>& values) {
  auto* list = Mutable(example, key)->mutable_float_list();
  list->mutable_value()->Add(values.begin(), values.end());
}

void SetInt64List(tensorflow::Example* example, const std::string& key, const std::vector<int64_t>& values) {
  auto* list = Mutable(example, key)->mutable_int64_list();
  list->mutable_value()->Add(values.begin(), values.end());
}

void SetInt64(tensorflow::Example* example, const std::string& key, int64_t value) {
  Mutable(example, key)->mutable_int64_list()->add_value(value);
}

bool HasFeature(const tensorflow::Example& example, const std::string& key) {
  return example.features().feature().count(key) > 0;
}

std::vector<std::string> GetBytesList(const tensorflow::Example& example, const std::string& key,
                                      const std::string& source) {
  const auto* f = Find(example, key, tensorflow::Feature::kBytesList, "bytes_list", source);
  if (!f) return {};
  return {f->bytes_list().value().begin(), f->bytes_list().value().end()};
}

std::vector<float> GetFloatList(const tensorflow::Example& example, const std::string& key, const std::string& source) {
  const auto* f = Find(example, key, tensorflow::Feature::kFloatList, "float_list", source);
  if (!f) return {};
  return {f->float_list().value().begin(), f->float_list().value().end()};
}

std::vector<int64_t> GetInt64List(const tensorflow::Example& example, const std::string& key,
                                  const std::string& source) {
  const auto* f = Find(example, key, tensorflow::Feature::kInt64List, "int64_list", source);
  if (!f) return {};
  return {f->int64_list().value().begin(), f->int64_list().value().end()};
}

std::optional<std::string> GetBytes(const tensorflow::Example& example, const std::string& key,
                                    const std::string& source) {
  return Single(GetBytesList(example, key, source), key, source);
}

std::optional<int64_t> GetInt64(const tensorflow::Example& example, const std::string& key, const std::string& source) {
  return Single(GetInt64List(example, key, source), key, source);
}

tensorflow::Example ParseExample(std::string_view bytes, const std::string& source) {
  tensorflow::Example example;
  if (!example.ParseFromArray(bytes.data(), int(bytes.size()))) {
    throw FormatError(source + ": not a valid tf.train.Example (protobuf parse failed)");
  }
  return example;
}

std::string SerializeExample(const tensorflow::Example& example) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    example.SerializeToCodedStream(&coded);
  }  // The coded stream trims `bytes` to what it wrote when it goes.
  return bytes;
}

}  // namespace segtune
