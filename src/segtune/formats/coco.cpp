// COCO JSON reading with simdjson (DOM): the whole file is parsed at ~1 GB/s, then walked once.
// Unknown fields are converted to nlohmann::json only when present, so plain COCO files pay nothing.
// Writing streams one element at a time (no full JSON tree in memory).
#include "segtune/formats/coco.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <sstream>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/number_text.h"
#include "segtune/core/parallel_for.h"

namespace segtune {
namespace {

namespace dom = simdjson::dom;

// Where we are in the document, formatted only when an error is thrown: "annotations[12].bbox".
struct Where {
  const std::string& source;
  const char* array;
  size_t index;
  [[noreturn]] void Fail(const std::string& field, const std::string& what) const {
    std::string where = std::string(array);
    if (index != size_t(-1)) where += "[" + std::to_string(index) + "]";
    if (!field.empty()) where += "." + field;
    throw FormatError(source + ": " + where + ": " + what);
  }
};

const char* TypeName(dom::element_type t) {
  switch (t) {
    case dom::element_type::ARRAY: return "an array";
    case dom::element_type::OBJECT: return "an object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: return "a number";
    case dom::element_type::STRING: return "a string";
    case dom::element_type::BOOL: return "a boolean";
    default: return "null";
  }
}

bool IsNumber(dom::element e) {
  const auto t = e.type();
  return t == dom::element_type::INT64 || t == dom::element_type::UINT64 || t == dom::element_type::DOUBLE;
}

double ToDouble(dom::element e, const Where& w, const std::string& field) {
  switch (e.type()) {
    case dom::element_type::INT64: return double(int64_t(e));
    case dom::element_type::UINT64: return double(uint64_t(e));
    case dom::element_type::DOUBLE: return double(e);
    default: w.Fail(field, std::string("expected a number, found ") + TypeName(e.type()));
  }
}

// Integers may come as 7, 7.0 or "7" (liberal: some exporters write ids as strings). Values outside
// [lo, hi] are errors, never wrapped or truncated (an id of 2^63 + 5 must not become negative).
int64_t ToInt(dom::element e, const Where& w, const std::string& field, int64_t lo = INT64_MIN,
              int64_t hi = INT64_MAX) {
  auto out_of_range = [&](const std::string& value) {
    w.Fail(field, value + " is out of range (expected an integer from " + std::to_string(lo) + " to " +
                      std::to_string(hi) + ")");
  };
  int64_t v = 0;
  switch (e.type()) {
    case dom::element_type::INT64: v = int64_t(e); break;
    case dom::element_type::UINT64: {
      const uint64_t u = uint64_t(e);
      if (u > uint64_t(INT64_MAX)) out_of_range(std::to_string(u));
      v = int64_t(u);
      break;
    }
    case dom::element_type::DOUBLE: {
      const double d = double(e);
      if (d != std::floor(d)) w.Fail(field, "expected an integer, found " + std::to_string(d));
      // 2^63 is exactly representable; every double below it converts exactly.
      if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) out_of_range(nlohmann::json(d).dump());
      v = int64_t(d);
      break;
    }
    case dom::element_type::STRING: {
      const std::string s{std::string_view(e)};
      size_t used = 0;
      try {
        v = std::stoll(s, &used);
      } catch (const std::out_of_range&) {
        out_of_range("\"" + s + "\"");
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != s.size()) w.Fail(field, "expected an integer, found the string \"" + s + "\"");
      break;
    }
    default: w.Fail(field, std::string("expected an integer, found ") + TypeName(e.type()));
  }
  if (v < lo || v > hi) out_of_range(std::to_string(v));
  return v;
}

// Image sides: 0 (or null) means unknown; otherwise what an `int` holds (the image file must agree).
constexpr int64_t kMaxCocoSide = INT32_MAX;
// Category ids end up in label maps, whose ids are int32 (string_int_label_map.proto).
constexpr int64_t kMinCategoryId = INT32_MIN, kMaxCategoryId = INT32_MAX;

ImageId ToImageId(dom::element e, const Where& w, const std::string& field) {
  if (e.type() == dom::element_type::STRING) return {std::string(std::string_view(e)), false};
  if (e.type() == dom::element_type::UINT64) return {std::to_string(uint64_t(e)), true};  // Kept as text: exact.
  return {std::to_string(ToInt(e, w, field)), true};
}

std::string ToString(dom::element e, const Where& w, const std::string& field) {
  if (e.type() == dom::element_type::NULL_VALUE) return "";
  if (e.type() != dom::element_type::STRING) w.Fail(field, std::string("expected a string, found ") + TypeName(e.type()));
  return std::string(std::string_view(e));
}

nlohmann::json ToJson(dom::element e) {
  switch (e.type()) {
    case dom::element_type::ARRAY: {
      nlohmann::json a = nlohmann::json::array();
      for (dom::element x : dom::array(e)) a.push_back(ToJson(x));
      return a;
    }
    case dom::element_type::OBJECT: {
      nlohmann::json o = nlohmann::json::object();
      for (auto field : dom::object(e)) o[std::string(field.key)] = ToJson(field.value);
      return o;
    }
    case dom::element_type::INT64: return int64_t(e);
    case dom::element_type::UINT64: return uint64_t(e);
    case dom::element_type::DOUBLE: return double(e);
    case dom::element_type::STRING: return std::string(std::string_view(e));
    case dom::element_type::BOOL: return bool(e);
    default: return nullptr;
  }
}

dom::array ExpectArray(dom::element e, const Where& w, const std::string& field) {
  if (e.type() != dom::element_type::ARRAY) w.Fail(field, std::string("expected an array, found ") + TypeName(e.type()));
  return dom::array(e);
}

std::vector<double> ToNumbers(dom::element e, const Where& w, const std::string& field) {
  std::vector<double> out;
  dom::array a = ExpectArray(e, w, field);
  out.reserve(a.size());
  for (dom::element x : a) {
    if (!IsNumber(x)) w.Fail(field, std::string("expected numbers, found ") + TypeName(x.type()));
    out.push_back(ToDouble(x, w, field));
  }
  return out;
}

Rle ToRle(dom::object o, const Where& w) {
  dom::element size, counts;
  if (o["size"].get(size) || o["counts"].get(counts)) w.Fail("segmentation", "RLE needs \"size\" and \"counts\"");
  const auto hw = ToNumbers(size, w, "segmentation.size");
  if (hw.size() != 2 || hw[0] < 0 || hw[1] < 0) w.Fail("segmentation.size", "expected [height, width]");
  for (double side : hw) {
    if (side != std::floor(side) || side > double(kMaxCocoSide)) {
      w.Fail("segmentation.size", "expected integer sides from 0 to " + std::to_string(kMaxCocoSide) + ", found " +
                                      nlohmann::json(side).dump());
    }
  }
  const auto h = uint32_t(hw[0]), width = uint32_t(hw[1]);
  if (counts.type() == dom::element_type::STRING) {
    try {
      return RleFromString(std::string(std::string_view(counts)), h, width);
    } catch (const Error& e) {
      w.Fail("segmentation.counts", e.what());
    }
  }
  Rle rle{h, width, {}};
  uint64_t total = 0;
  for (double c : ToNumbers(counts, w, "segmentation.counts")) {
    if (c < 0) w.Fail("segmentation.counts", "negative run length");
    if (c > double(UINT32_MAX) || c != std::floor(c)) {
      w.Fail("segmentation.counts", "run length " + nlohmann::json(c).dump() + " is not an integer from 0 to " +
                                        std::to_string(UINT32_MAX));
    }
    rle.counts.push_back(uint32_t(c));
    total += uint64_t(c);
  }
  if (total != uint64_t(h) * width) {
    w.Fail("segmentation.counts", "runs sum to " + std::to_string(total) + ", expected height*width = " +
                                      std::to_string(uint64_t(h) * width));
  }
  return rle;
}

Segmentation ToSegmentation(dom::element e, const Where& w) {
  Segmentation seg;
  if (e.type() == dom::element_type::NULL_VALUE) return seg;
  if (e.type() == dom::element_type::OBJECT) {
    seg.rle = ToRle(dom::object(e), w);
    return seg;
  }
  dom::array parts = ExpectArray(e, w, "segmentation");
  if (parts.size() > 0 && IsNumber(parts.at(0).value())) {  // A single flat polygon (liberal).
    seg.polygons.push_back(ToNumbers(e, w, "segmentation"));
    return seg;
  }
  for (dom::element part : parts) {
    if (part.type() == dom::element_type::OBJECT) {  // [{size, counts}] as some tools write.
      seg.rle = ToRle(dom::object(part), w);
      continue;
    }
    seg.polygons.push_back(ToNumbers(part, w, "segmentation"));
  }
  return seg;
}

CocoImage ToImage(dom::object o, const Where& w) {
  CocoImage image;
  bool has_id = false;
  for (auto field : o) {
    const std::string_view key = field.key;
    if (key == "id") {
      image.id = ToImageId(field.value, w, "id");
      has_id = true;
    } else if (key == "file_name") {
      image.file_name = ToString(field.value, w, "file_name");
    } else if (key == "width") {
      image.width = field.value.is_null() ? 0 : int(ToInt(field.value, w, "width", 0, kMaxCocoSide));
    } else if (key == "height") {
      image.height = field.value.is_null() ? 0 : int(ToInt(field.value, w, "height", 0, kMaxCocoSide));
    } else if (key == "coco_url") {
      image.coco_url = ToString(field.value, w, "coco_url");
    } else if (key == "flickr_url") {
      image.flickr_url = ToString(field.value, w, "flickr_url");
    } else {
      image.extra[std::string(key)] = ToJson(field.value);
    }
  }
  if (!has_id) w.Fail("", "missing \"id\"");
  return image;
}

CocoCategory ToCategory(dom::object o, const Where& w) {
  CocoCategory cat;
  bool has_id = false;
  for (auto field : o) {
    const std::string_view key = field.key;
    if (key == "id") {
      cat.id = ToInt(field.value, w, "id", kMinCategoryId, kMaxCategoryId);
      has_id = true;
    } else if (key == "name") {
      cat.name = ToString(field.value, w, "name");
    } else if (key == "supercategory") {
      cat.supercategory = ToString(field.value, w, "supercategory");
    } else {
      cat.extra[std::string(key)] = ToJson(field.value);
    }
  }
  if (!has_id) w.Fail("", "missing \"id\"");
  return cat;
}

// `results`: a results file, where id/area/iscrowd are optional and score is expected.
CocoAnnotation ToAnnotation(dom::object o, const Where& w, bool results) {
  CocoAnnotation ann;
  bool has_id = false, has_image = false, has_category = false, has_bbox = false, has_area = false;
  for (auto field : o) {
    const std::string_view key = field.key;
    if (key == "id") {
      ann.id = ToInt(field.value, w, "id");
      has_id = true;
    } else if (key == "image_id") {
      ann.image_id = ToImageId(field.value, w, "image_id");
      has_image = true;
    } else if (key == "category_id") {
      ann.category_id = ToInt(field.value, w, "category_id", kMinCategoryId, kMaxCategoryId);
      has_category = true;
    } else if (key == "segmentation") {
      ann.segmentation = ToSegmentation(field.value, w);
    } else if (key == "area") {
      ann.area = ToDouble(field.value, w, "area");
      has_area = true;
    } else if (key == "bbox") {
      const auto box = ToNumbers(field.value, w, "bbox");
      if (box.size() != 4) w.Fail("bbox", "expected 4 numbers [x, y, width, height], found " + std::to_string(box.size()));
      std::copy(box.begin(), box.end(), ann.bbox.begin());
      has_bbox = true;
    } else if (key == "iscrowd") {
      ann.iscrowd = field.value.type() == dom::element_type::BOOL ? bool(field.value)
                                                                  : ToInt(field.value, w, "iscrowd") != 0;
    } else if (key == "score") {
      ann.score = ToDouble(field.value, w, "score");
    } else {
      ann.extra[std::string(key)] = ToJson(field.value);
    }
  }
  if (!has_image) w.Fail("", "missing \"image_id\"");
  if (!has_category) w.Fail("", "missing \"category_id\"");
  if (!results && !has_id) w.Fail("", "missing \"id\"");
  if (results) {
    if (!has_id) ann.id = int64_t(w.index) + 1;  // As pycocotools' loadRes numbers them.
    if (!has_bbox && ann.segmentation.rle) ann.bbox = RleToBbox(*ann.segmentation.rle);
    if (!has_area) {
      ann.area = ann.segmentation.rle ? double(RleArea(*ann.segmentation.rle)) : ann.bbox[2] * ann.bbox[3];
    }
  }
  return ann;
}

dom::element ParseDocument(dom::parser& parser, const simdjson::padded_string& text, const std::string& source) {
  dom::element doc;
  if (const auto error = parser.parse(text).get(doc)) {
    throw FormatError(source + ": not valid JSON (" + simdjson::error_message(error) + ")");
  }
  return doc;
}

CocoDataset FromDocument(dom::element doc, const std::string& source) {
  if (doc.type() != dom::element_type::OBJECT) {
    throw FormatError(source + ": expected a COCO object {images, annotations, categories}, found " +
                      TypeName(doc.type()));
  }
  CocoDataset data;
  for (auto field : dom::object(doc)) {
    const std::string_view key = field.key;
    const std::string name(key);
    if (key == "images" || key == "categories" || key == "annotations") {
      dom::array items = ExpectArray(field.value, {source, name.c_str(), size_t(-1)}, "");
      size_t i = 0;
      for (dom::element item : items) {
        const Where w{source, name.c_str(), i};
        if (item.type() != dom::element_type::OBJECT) w.Fail("", std::string("expected an object, found ") + TypeName(item.type()));
        if (key == "images") data.images.push_back(ToImage(dom::object(item), w));
        if (key == "categories") data.categories.push_back(ToCategory(dom::object(item), w));
        if (key == "annotations") data.annotations.push_back(ToAnnotation(dom::object(item), w, false));
        ++i;
      }
    } else if (key == "info") {
      data.info = ToJson(field.value);
    } else if (key == "licenses") {
      data.licenses = ToJson(field.value);
    }
  }
  return data;
}

simdjson::padded_string LoadText(const std::filesystem::path& path) {
  simdjson::padded_string text;
  if (simdjson::padded_string::load(path.string()).get(text)) throw IoError(path, "cannot read");
  return text;
}

// ---- writing -------------------------------------------------------------------------------

// Appends `s` as a JSON string, as nlohmann::json writes it. Plain printable ASCII (every name and
// number a dataset usually holds) needs no escaping and skips building a json value.
void AppendQuoted(std::string& out, const std::string& s) {
  const bool plain = std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; });
  if (!plain) {
    out += nlohmann::json(s).dump();
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

std::string Quote(const std::string& s) {
  std::string out;
  AppendQuoted(out, s);
  return out;
}

void AppendInteger(std::string& out, int64_t v) {
  char buffer[24];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), v);
  out.append(buffer, end);
}

// The shortest text that reads back as exactly `d` (std::to_chars), with ".0" on integral values as
// nlohmann::json writes them; non-finite values as null (JSON has no NaN). Appends in place: a large
// dataset writes millions of coordinates, and a json object + string per number was most of the
// writer's time.
void AppendNumber(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buffer[32];
  char* end = WriteShortestDouble(buffer, d);
  out.append(buffer, end);
  if (std::find_if(buffer, end, [](char c) { return c == '.' || c == 'e'; }) == end) out += ".0";
}

void WriteImageId(std::string& out, const ImageId& id) {
  if (id.is_number) {
    out += id.text;
  } else {
    AppendQuoted(out, id.text);
  }
}

// Appends `,"key":value` for each extra field (integers and strings directly, as dump() writes them).
void WriteExtra(std::string& out, const nlohmann::json& extra) {
  for (const auto& [k, v] : extra.items()) {
    out += ',';
    AppendQuoted(out, k);
    out += ':';
    if (v.is_number_integer() && !v.is_number_unsigned()) {
      AppendInteger(out, v.get<int64_t>());
    } else if (v.is_string()) {
      AppendQuoted(out, v.get_ref<const std::string&>());
    } else {
      out += v.dump();
    }
  }
}

void WriteNumbers(std::string& out, const double* values, size_t count) {
  out += '[';
  for (size_t i = 0; i < count; ++i) {
    if (i) out += ',';
    AppendNumber(out, values[i]);
  }
  out += ']';
}

void WriteNumbers(std::string& out, const std::vector<double>& values) { WriteNumbers(out, values.data(), values.size()); }

void WriteSegmentation(std::string& out, const Segmentation& seg) {
  if (seg.rle) {
    out += "{\"size\":[" + std::to_string(seg.rle->h) + "," + std::to_string(seg.rle->w) +
           "],\"counts\":" + Quote(RleToString(*seg.rle)) + "}";
    return;
  }
  out += '[';
  for (size_t i = 0; i < seg.polygons.size(); ++i) {
    if (i) out += ',';
    WriteNumbers(out, seg.polygons[i]);
  }
  out += ']';
}

void WriteImage(std::string& out, const CocoImage& im) {
  out += "{\"id\":";
  WriteImageId(out, im.id);
  out += ",\"file_name\":";
  AppendQuoted(out, im.file_name);
  out += ",\"width\":";
  AppendInteger(out, im.width);
  out += ",\"height\":";
  AppendInteger(out, im.height);
  if (!im.coco_url.empty()) out += ",\"coco_url\":" + Quote(im.coco_url);
  if (!im.flickr_url.empty()) out += ",\"flickr_url\":" + Quote(im.flickr_url);
  WriteExtra(out, im.extra);
  out += '}';
}

void WriteCategory(std::string& out, const CocoCategory& c) {
  out += "{\"id\":" + std::to_string(c.id) + ",\"name\":" + Quote(c.name) +
         ",\"supercategory\":" + Quote(c.supercategory);
  WriteExtra(out, c.extra);
  out += '}';
}

void WriteAnnotation(std::string& out, const CocoAnnotation& a) {
  out += "{\"id\":";
  AppendInteger(out, a.id);
  out += ",\"image_id\":";
  WriteImageId(out, a.image_id);
  out += ",\"category_id\":";
  AppendInteger(out, a.category_id);
  out += ",\"segmentation\":";
  WriteSegmentation(out, a.segmentation);
  out += ",\"area\":";
  AppendNumber(out, a.area);
  out += ",\"bbox\":";
  WriteNumbers(out, a.bbox.data(), a.bbox.size());
  out += a.iscrowd ? ",\"iscrowd\":1" : ",\"iscrowd\":0";
  if (a.score) {
    out += ",\"score\":";
    AppendNumber(out, *a.score);
  }
  WriteExtra(out, a.extra);
  out += '}';
}

// Items per block of a list written on one thread: large enough that a block takes well over a
// thread hand-off, small enough that a few thousand items still spread over the cores.
constexpr size_t kItemsPerBlock = 512;

// Writes the blocks of a long list on every core (a large dataset's annotations are most of a
// conversion's time once the input is read), then joins them in order: the text is the same as one
// thread's.
template <typename T, typename Fn>
void WriteList(std::string& out, const char* name, const std::vector<T>& items, Fn write_one) {
  out += ",\n\"" + std::string(name) + "\":[";
  const size_t blocks = (items.size() + kItemsPerBlock - 1) / kItemsPerBlock;
  std::vector<std::string> texts(blocks);
  ParallelFor(blocks, [&](size_t b) {
    for (size_t i = b * kItemsPerBlock; i < std::min(items.size(), (b + 1) * kItemsPerBlock); ++i) {
      texts[b] += i ? ",\n" : "\n";
      write_one(texts[b], items[i]);
    }
  });
  size_t total = out.size() + 1;
  for (const auto& t : texts) total += t.size();
  out.reserve(total + 64);
  for (const auto& t : texts) out += t;
  out += "]";
}

}  // namespace

CocoDataset ParseCoco(std::string_view json_text, const std::string& source) {
  dom::parser parser;
  const simdjson::padded_string text(json_text);
  return FromDocument(ParseDocument(parser, text, source), source);
}

CocoDataset LoadCoco(const std::filesystem::path& path) {
  const simdjson::padded_string text = LoadText(path);
  dom::parser parser;
  return FromDocument(ParseDocument(parser, text, path.string()), path.string());
}

std::vector<CocoAnnotation> LoadCocoResults(const std::filesystem::path& path) {
  const std::string source = path.string();
  const simdjson::padded_string text = LoadText(path);
  dom::parser parser;
  const dom::element doc = ParseDocument(parser, text, source);
  if (doc.type() != dom::element_type::ARRAY) {
    throw FormatError(source + ": expected a COCO results array [{image_id, category_id, score, ...}], found " +
                      TypeName(doc.type()));
  }
  std::vector<CocoAnnotation> results;
  size_t i = 0;
  for (dom::element item : dom::array(doc)) {
    const Where w{source, "results", i++};
    if (item.type() != dom::element_type::OBJECT) w.Fail("", std::string("expected an object, found ") + TypeName(item.type()));
    results.push_back(ToAnnotation(dom::object(item), w, true));
  }
  return results;
}

std::string CocoToJson(const CocoDataset& d) {
  std::string out = "{\"info\":" + d.info.dump() + ",\n\"licenses\":" + d.licenses.dump();
  WriteList(out, "images", d.images, WriteImage);
  WriteList(out, "categories", d.categories, WriteCategory);
  WriteList(out, "annotations", d.annotations, WriteAnnotation);
  out += "}\n";
  return out;
}

void SaveCoco(const CocoDataset& dataset, const std::filesystem::path& path) {
  WriteFileAtomic(path, CocoToJson(dataset));
}

}  // namespace segtune
