#include "segtune/formats/example_wire.h"

#include <cstring>

namespace segtune {
namespace {

// Field tags (field number << 3 | wire type 2, length-delimited); all fields used here are numbers 1..3.
constexpr char kTag1 = 0x0A, kTag2 = 0x12;
constexpr char kKindTag[3] = {0x0A, 0x12, 0x1A};  // Feature.bytes_list / float_list / int64_list.

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void PutVarint(uint64_t v, std::string* out) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = char(v | 0x80);
    v >>= 7;
  }
  buf[n++] = char(v);
  out->append(buf, n);
}

// A length-delimited field: tag, length, then `size` bytes the caller appends.
size_t FieldSize(size_t size) { return 1 + VarintSize(size) + size; }

// Bytes of the BytesList / FloatList / Int64List message of a feature.
size_t ListSize(const WireFeature& f) {
  switch (f.kind) {
    case WireFeature::kBytes: {
      size_t n = 0;
      for (const auto& b : f.bytes) n += FieldSize(b.size());
      return n;
    }
    case WireFeature::kFloats:
      return f.count ? FieldSize(4 * f.count) : 0;
    case WireFeature::kInt64s: {
      size_t payload = 0;
      for (size_t i = 0; i < f.count; ++i) payload += VarintSize(uint64_t(f.int64s[i]));
      return f.count ? FieldSize(payload) : 0;
    }
  }
  return 0;
}

void PutList(const WireFeature& f, std::string* out) {
  switch (f.kind) {
    case WireFeature::kBytes:
      for (const auto& b : f.bytes) {
        out->push_back(kTag1);
        PutVarint(b.size(), out);
        out->append(b.data(), b.size());
      }
      return;
    case WireFeature::kFloats:
      if (!f.count) return;
      out->push_back(kTag1);
      PutVarint(4 * f.count, out);
      for (size_t i = 0; i < f.count; ++i) {  // Little-endian IEEE floats (x86-64, aarch64).
        char buf[4];
        std::memcpy(buf, &f.floats[i], 4);
        out->append(buf, 4);
      }
      return;
    case WireFeature::kInt64s: {
      if (!f.count) return;
      size_t payload = 0;
      for (size_t i = 0; i < f.count; ++i) payload += VarintSize(uint64_t(f.int64s[i]));
      out->push_back(kTag1);
      PutVarint(payload, out);
      for (size_t i = 0; i < f.count; ++i) PutVarint(uint64_t(f.int64s[i]), out);
      return;
    }
  }
}

struct EntrySizes {
  size_t list, feature, entry;
};

EntrySizes SizesOf(const WireFeature& f) {
  EntrySizes s;
  s.list = ListSize(f);
  s.feature = FieldSize(s.list);                            // Feature { kind: list }.
  s.entry = FieldSize(f.key.size()) + FieldSize(s.feature);  // Map entry { key, value }.
  return s;
}

WireFeature Bytes(std::string_view key, std::vector<std::string_view> values) {
  WireFeature f;
  f.key = key;
  f.bytes = std::move(values);
  return f;
}

WireFeature Floats(std::string_view key, const std::vector<float>& values) {
  WireFeature f;
  f.key = key;
  f.kind = WireFeature::kFloats;
  f.floats = values.data();
  f.count = values.size();
  return f;
}

WireFeature Int64s(std::string_view key, const int64_t* values, size_t count) {
  WireFeature f;
  f.key = key;
  f.kind = WireFeature::kInt64s;
  f.int64s = values;
  f.count = count;
  return f;
}

std::vector<std::string_view> Views(const std::vector<std::string>& values) {
  return {values.begin(), values.end()};
}

}  // namespace

void AppendExampleWire(const std::vector<WireFeature>& features, std::string* out) {
  std::vector<EntrySizes> sizes;
  sizes.reserve(features.size());
  size_t features_size = 0;
  for (const auto& f : features) {
    sizes.push_back(SizesOf(f));
    features_size += FieldSize(sizes.back().entry);
  }
  out->reserve(out->size() + FieldSize(features_size));
  out->push_back(kTag1);  // Example.features
  PutVarint(features_size, out);
  for (size_t i = 0; i < features.size(); ++i) {
    const WireFeature& f = features[i];
    out->push_back(kTag1);  // Features.feature (map entry)
    PutVarint(sizes[i].entry, out);
    out->push_back(kTag1);  // entry.key
    PutVarint(f.key.size(), out);
    out->append(f.key.data(), f.key.size());
    out->push_back(kTag2);  // entry.value
    PutVarint(sizes[i].feature, out);
    out->push_back(kKindTag[f.kind]);
    PutVarint(sizes[i].list, out);
    PutList(f, out);
  }
}

void AppendObjectDetectionExampleWire(const ObjectDetectionExample& od, std::string* out) {
  const auto split = [](const std::vector<NormalizedBox>& boxes, std::vector<float> (&c)[4]) {
    for (const auto& b : boxes) {
      c[0].push_back(b.xmin);
      c[1].push_back(b.xmax);
      c[2].push_back(b.ymin);
      c[3].push_back(b.ymax);
    }
  };
  std::vector<float> box[4], det[4];
  split(od.boxes, box);
  std::vector<WireFeature> f;
  f.reserve(24);
  f.push_back(Int64s("image/height", &od.height, 1));
  f.push_back(Int64s("image/width", &od.width, 1));
  f.push_back(Bytes("image/filename", {od.filename}));
  f.push_back(Bytes("image/source_id", {od.source_id}));
  f.push_back(Bytes("image/key/sha256", {od.sha256}));
  f.push_back(Bytes("image/encoded", {od.encoded}));
  f.push_back(Bytes("image/format", {od.format}));
  f.push_back(Floats("image/object/bbox/xmin", box[0]));
  f.push_back(Floats("image/object/bbox/xmax", box[1]));
  f.push_back(Floats("image/object/bbox/ymin", box[2]));
  f.push_back(Floats("image/object/bbox/ymax", box[3]));
  f.push_back(Bytes("image/object/class/text", Views(od.class_text)));
  f.push_back(Int64s("image/object/class/label", od.class_label.data(), od.class_label.size()));
  f.push_back(Int64s("image/object/is_crowd", od.is_crowd.data(), od.is_crowd.size()));
  f.push_back(Floats("image/object/area", od.area));
  if (od.has_instance_masks) f.push_back(Bytes("image/object/mask", Views(od.instance_masks)));
  if (!od.semantic_mask.empty()) {
    f.push_back(Bytes("image/segmentation/class/encoded", {od.semantic_mask}));
    f.push_back(Bytes("image/segmentation/class/format",
                      {od.semantic_mask_format.empty() ? std::string_view("png") : od.semantic_mask_format}));
  }
  if (od.has_detections) {
    split(od.detection_boxes, det);
    f.push_back(Floats("image/detection/bbox/xmin", det[0]));
    f.push_back(Floats("image/detection/bbox/xmax", det[1]));
    f.push_back(Floats("image/detection/bbox/ymin", det[2]));
    f.push_back(Floats("image/detection/bbox/ymax", det[3]));
    f.push_back(Floats("image/detection/score", od.detection_scores));
    f.push_back(Int64s("image/detection/label", od.detection_labels.data(), od.detection_labels.size()));
  }
  AppendExampleWire(f, out);
}

}  // namespace segtune
