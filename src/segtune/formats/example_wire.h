// tf.train.Example wire bytes written straight from the values, without building the protobuf
// message first: no copy of the image bytes into a message, no map of features. Used where records
// are produced in bulk (coco2tfrecord); the bytes parse to the same message ToExample() builds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "segtune/formats/od_example.h"

namespace segtune {

// One feature of an Example; the pointed-to values must outlive the ExampleWireWriter call.
struct WireFeature {
  enum Kind { kBytes, kFloats, kInt64s };
  std::string_view key;
  Kind kind = kBytes;
  std::vector<std::string_view> bytes;  // kBytes.
  const float* floats = nullptr;        // kFloats: `count` values.
  const int64_t* int64s = nullptr;      // kInt64s: `count` values.
  size_t count = 0;
};

// Appends the serialized tf.train.Example holding `features` (in that order; an empty list still
// sets its kind, as TF's feature helpers do) to *out.
void AppendExampleWire(const std::vector<WireFeature>& features, std::string* out);

// Appends the Example of ToExample(od) to *out (same features and values; feature order may differ
// from protobuf's map order, which parsers ignore).
void AppendObjectDetectionExampleWire(const ObjectDetectionExample& od, std::string* out);

}  // namespace segtune
