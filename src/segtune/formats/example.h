// Typed access to tf.train.Example features (proto/example.proto), with errors that name the
// record and the key: "train.record: record 7: image/height: expected int64_list, found bytes_list".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "example.pb.h"

namespace segtune {

// "bytes_list", "float_list", "int64_list" or "empty" (a Feature with no kind set).
std::string FeatureKindName(const tensorflow::Feature& feature);

// Setters replace any existing value of the key.
void SetBytesList(tensorflow::Example* example, const std::string& key, const std::vector<std::string>& values);
void SetBytes(tensorflow::Example* example, const std::string& key, std::string_view value);
void SetFloatList(tensorflow::Example* example, const std::string& key, const std::vector<float>& values);
void SetInt64List(tensorflow::Example* example, const std::string& key, const std::vector<int64_t>& values);
void SetInt64(tensorflow::Example* example, const std::string& key, int64_t value);

bool HasFeature(const tensorflow::Example& example, const std::string& key);

// Getters: a missing key gives an empty list / std::nullopt. A key holding another kind of list
// throws FormatError("<source>: <key>: expected int64_list, found bytes_list"). An empty Feature
// (no kind set) reads as an empty list of any kind, as TensorFlow's parser does.
std::vector<std::string> GetBytesList(const tensorflow::Example& example, const std::string& key,
                                      const std::string& source);
std::vector<float> GetFloatList(const tensorflow::Example& example, const std::string& key, const std::string& source);
std::vector<int64_t> GetInt64List(const tensorflow::Example& example, const std::string& key,
                                  const std::string& source);

// Single-value getters: also throw FormatError when the list has more than one value.
std::optional<std::string> GetBytes(const tensorflow::Example& example, const std::string& key,
                                    const std::string& source);
std::optional<int64_t> GetInt64(const tensorflow::Example& example, const std::string& key, const std::string& source);

// Parses serialized bytes. Throws FormatError("<source>: not a valid tf.train.Example").
tensorflow::Example ParseExample(std::string_view bytes, const std::string& source);

// Serializes with the features in key order (protobuf's deterministic mode): the same Example gives
// the same bytes in every run, where plain SerializeAsString follows the map's per-process hash order.
std::string SerializeExample(const tensorflow::Example& example);

}  // namespace segtune
