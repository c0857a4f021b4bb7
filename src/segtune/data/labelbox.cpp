#include "segtune/data/labelbox.h"

#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/interrupt_cleanup.h"
#include "segtune/core/log.h"
#include "segtune/core/output_guard.h"
#include "segtune/core/progress.h"
#include "segtune/data/image_decode.h"
#include "segtune/formats/image_header.h"
#include "segtune/data/labelbox_rows.h"
#include "segtune/formats/nesting_limit.h"
#include "segtune/formats/rle.h"

namespace fs = std::filesystem;

namespace segtune {
namespace {

using Kind = LabelboxShape::Kind;

struct ParsedExport {
  std::vector<LabelboxRow> rows;
  LabelboxParseStats stats;
};

// `line`: the file line `text` starts on (NDJSON); 0 for a whole file.
nlohmann::json ParseJson(const std::string& text, const fs::path& file, size_t line) {
  const std::string where = line > 0 ? "line " + std::to_string(line) : "";
  // nlohmann parses without recursion, but copying and printing a value (error messages) recurse.
  CheckJsonNesting(text, file.string(), int(std::max<size_t>(line, 1)));
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for numbers like 1e400.
    throw FormatError(file, where, std::string("not valid JSON (") + e.what() + ")");
  }
}

std::string FlavourOf(const nlohmann::json& row) {
  if (row.is_object() && row.contains("data_row")) return "export v2";
  const bool skipped = row.is_object() && row.contains("Skipped") && row["Skipped"] == true;
  if (row.is_object() && !skipped && row.contains("Label") && row["Label"].is_object() && !row["Label"].empty())
    return row["Label"].contains("objects") ? "v1 JSON (Label.objects)" : "2018 JSON (class -> XY/WKT)";
  return "";
}

void AddRow(const nlohmann::json& row, const std::string& where, ParsedExport* out, std::set<std::string>* flavours) {
  const std::string flavour = FlavourOf(row);
  if (!flavour.empty()) flavours->insert(flavour);
  try {
    out->rows.push_back(flavour == "export v2" ? ParseLabelboxNdjsonRow(row, where, &out->stats)
                                               : ParseLabelboxV1Row(row, where, &out->stats));
  } catch (const nlohmann::json::exception& e) {  // A field of an unexpected JSON type.
    throw FormatError(where + ": unexpected field type (" + e.what() + ")");
  }
}

// A JSON array of rows (v1, 2018 or v2), a single v2 object, or NDJSON (one v2 row per line).
ParsedExport ReadExport(const fs::path& path) {
  const std::string text = ReadFile(path);
  const size_t first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first == std::string::npos) throw FormatError(path, "", "empty file; expected a Labelbox JSON or NDJSON export");
  ParsedExport out;
  std::set<std::string> flavours;
  const std::string file = path.string();
  if (text[first] == '[') {
    const nlohmann::json rows = ParseJson(text, path, 0);
    for (size_t i = 0; i < rows.size(); ++i) AddRow(rows[i], file + ": row " + std::to_string(i), &out, &flavours);
  } else {
    size_t line_no = 0;
    for (size_t pos = 0; pos < text.size();) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      ++line_no;
      const std::string line = text.substr(pos, end - pos);
      pos = end + 1;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const std::string where = "line " + std::to_string(line_no);
      const nlohmann::json row = ParseJson(line, path, line_no);
      // Anything else would convert to an empty COCO file and look like success.
      if (!row.is_object() || !row.contains("data_row")) {
        throw FormatError(path, where,
                          std::string("a JSON ") + row.type_name() + (row.is_object() ? " without \"data_row\"" : "") +
                              " is not a Labelbox export; expected a JSON array of rows (export v1) or one "
                              "export v2 data row (with \"data_row\") per line (NDJSON)");
      }
      AddRow(row, file + ": " + where, &out, &flavours);
    }
    for (auto f : std::set<std::string>(flavours))
      if (f == "export v2") flavours = {"export v2 NDJSON"};
  }
  for (const auto& f : flavours) out.stats.flavour += (out.stats.flavour.empty() ? "" : " + ") + f;
  if (out.stats.flavour.empty()) out.stats.flavour = "no labeled rows";
  return out;
}

bool IsRegion(Kind kind) { return kind == Kind::kPolygon || kind == Kind::kBox || kind == Kind::kMask; }

// A temporary directory for mask files, removed when done, on an error (the destructor) and when
// SIGINT/SIGTERM/SIGHUP stop the process (the interrupt cleanup: destructors do not run then).
class ScratchDir {
 public:
  ScratchDir() {
    const fs::path tmpl_path = fs::temp_directory_path() / "segtune-masks-XXXXXX";
    std::string tmpl = tmpl_path.string();
    // mkdtemp picks the name, so the directory is registered right after it exists: a signal in
    // between leaves an empty directory at worst.
    if (!::mkdtemp(tmpl.data())) throw IoError(tmpl_path, "cannot create a temporary directory");
    path_ = tmpl;
    RegisterInterruptCleanup(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
    UnregisterInterruptCleanup(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The key goes only to the API hosts: an export can name any host in a mask or image URL.
DownloadOptions WithApiKey(DownloadOptions options, const LabelboxOptions& labelbox) {
  if (!labelbox.api_key.empty()) {
    options.credential_headers.push_back("Authorization: Bearer " + labelbox.api_key);
    options.credential_hosts = labelbox.api_key_hosts;
  }
  return options;
}

// What to do about a 401/403: supply a key, or allow its host.
std::string AuthHint(const DownloadResult& r, const LabelboxOptions& options) {
  if (r.http_status != 401 && r.http_status != 403) return "";
  if (options.api_key.empty()) return " (pass --api-key or set LABELBOX_API_KEY)";
  if (!CredentialAllowedFor(r.url, options.api_key_hosts))
    return " (the API key is sent only to labelbox.com and --api-key-host hosts; add --api-key-host if this host "
           "should receive it)";
  return " (check the API key)";
}

// Downloads every distinct mask URL in parallel; returns URL -> local file (failed URLs absent).
std::map<std::string, fs::path> FetchMasks(const std::vector<LabelboxRow>& rows, const LabelboxOptions& options,
                                           const fs::path& dir) {
  std::map<std::string, fs::path> file_of;
  std::vector<DownloadRequest> requests;
  for (const auto& row : rows)
    for (const auto& shape : row.shapes)
      if (shape.kind == Kind::kMask && !row.skipped && !file_of.count(shape.mask_url)) {
        file_of[shape.mask_url] = dir / ("mask" + std::to_string(requests.size()) + ".png");
        requests.push_back({shape.mask_url, file_of[shape.mask_url]});
      }
  if (requests.empty()) return {};
  Progress progress("masks", (long long)requests.size(), "mask");
  const auto results = DownloadAll(requests, WithApiKey(options.download, options), &progress);
  progress.Finish();
  for (const auto& r : results) {
    if (r.ok) continue;
    Warn("labelbox2coco: mask " + RedactUrl(r.url) + ": " + r.error + AuthHint(r, options));
    file_of.erase(r.url);
  }
  return file_of;
}

// The instance mask (0/1, row-major) of a mask shape; empty Mat (with a warning naming the mask
// and why) if the file is unreadable or its header is rejected (format, --max-pixels).
cv::Mat InstanceMask(const LabelboxShape& shape, const std::string& url, const fs::path& file) {
  cv::Mat image;
  try {
    image = DecodeImageBytes(ReadFile(file), cv::IMREAD_UNCHANGED, "labelbox2coco: mask " + RedactUrl(url), "");
  } catch (const Error& e) {
    Warn(e.what());
    return cv::Mat();
  }
  if (image.depth() != CV_8U) image.convertTo(image, CV_8U, 1.0 / 256);
  cv::Mat bgr;
  if (image.channels() == 1) cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR);
  else if (image.channels() == 4) cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR);
  else bgr = image;
  cv::Mat mask;
  if (shape.has_color) {
    const cv::Scalar color(shape.color_rgb[2], shape.color_rgb[1], shape.color_rgb[0]);
    cv::inRange(bgr, color, color, mask);
  } else {  // Single-instance masks: white object on black.
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    cv::threshold(gray, mask, 127, 1, cv::THRESH_BINARY);
  }
  mask = mask != 0;
  return mask / 255;
}

std::array<double, 4> PolygonBounds(const std::vector<std::vector<double>>& parts) {
  double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
  for (const auto& p : parts)
    for (size_t i = 0; i + 1 < p.size(); i += 2) {
      x0 = std::min(x0, p[i]), x1 = std::max(x1, p[i]);
      y0 = std::min(y0, p[i + 1]), y1 = std::max(y1, p[i + 1]);
    }
  return {x0, y0, x1 - x0, y1 - y0};
}

class Converter {
 public:
  Converter(const LabelboxOptions& options, LabelboxReport* report) : options_(options), report_(report) {}

  CocoDataset Run() {
    ParsedExport parsed = ReadExport(options_.input);
    report_->flavour = parsed.stats.flavour;
    for (const auto& [reason, n] : parsed.stats.ignored) report_->skipped_objects[reason] += n;
    MakeCategories(parsed.rows);
    ScratchDir scratch;
    masks_ = FetchMasks(parsed.rows, options_, scratch.path());
    std::set<std::string> seen_ids;
    for (LabelboxRow& row : parsed.rows) {
      ++report_->rows;
      if (row.skipped) {
        ++report_->skipped_rows;
        continue;
      }
      if (row.image_id.empty()) row.image_id = row.where;
      if (!seen_ids.insert(row.image_id).second) {
        Warn(row.where + ": image id " + row.image_id + " appears again; row skipped");
        ++report_->skipped_rows;
        continue;
      }
      ConvertRow(row);
    }
    if (legacy_seen_ && options_.y_origin == YOrigin::kAuto)
      Warn("labelbox2coco: " + options_.input.string() +
           " uses the 2018 XY/WKT formats, whose y origin may be bottom-left; y kept as is. Check an overlay, "
           "then pass --y-origin bottom (flip y' = H - y) or --y-origin top to silence this");
    report_->images = int(dataset_.images.size());
    report_->annotations = int(dataset_.annotations.size());
    return std::move(dataset_);
  }

 private:
  // Also records each class's ontology tool (its first region's kind), so that predictions go back
  // to Labelbox as the geometry the project's tool takes (labelbox-mal, docs/formats.md §18).
  void MakeCategories(const std::vector<LabelboxRow>& rows) {
    std::map<std::string, const char*> tool_of;
    for (const auto& row : rows)
      if (!row.skipped)
        for (const auto& s : row.shapes)
          if (IsRegion(s.kind)) tool_of.emplace(s.class_name, ToolName(s.kind));
    for (const auto& [name, tool] : tool_of) {
      CocoCategory c;
      c.id = int64_t(dataset_.categories.size() + 1);
      c.name = c.supercategory = name;
      c.extra["labelbox_tool"] = tool;
      category_of_[name] = c.id;
      dataset_.categories.push_back(c);
    }
  }

  static const char* ToolName(Kind kind) {
    return kind == Kind::kBox ? "bbox" : kind == Kind::kMask ? "mask" : "polygon";
  }

  void Skip(const std::string& reason) { ++report_->skipped_objects[reason]; }

  bool NeedsFlip(const LabelboxShape& s) const {
    return options_.y_origin == YOrigin::kBottom && (s.kind == Kind::kPolygon || s.kind == Kind::kBox);
  }

  // The image height is needed to flip y; fetch the image when the export does not say.
  void EnsureSize(CocoImage* image, const LabelboxRow& row) {
    if (image->height > 0) return;
    if (row.url.empty()) throw FormatError(row.where + ": the image height is needed to flip y, and the row has no URL");
    const std::string bytes = FetchUrl(row.url, WithApiKey(options_.download, options_));
    // Only the size is needed: read from the header, checked against --max-pixels, never decoded.
    const ImageHeader header =
        CheckImageHeader(bytes, row.where + ": " + RedactUrl(row.url), "image (needed to flip y)");
    image->width = int(header.width);
    image->height = int(header.height);
  }

  void ConvertRow(const LabelboxRow& row) {
    CocoImage image;
    image.id = ImageId{row.image_id, false};
    image.file_name = image.coco_url = row.url;
    image.width = row.width;
    image.height = row.height;
    if (!row.external_id.empty()) image.extra["external_id"] = row.external_id;
    // Where predictions go back to (labelbox-mal, docs/formats.md §18): the image id is the label's id
    // in v1 exports, so the data row is kept apart.
    if (!row.data_row_id.empty()) image.extra["labelbox_data_row_id"] = row.data_row_id;
    if (!row.global_key.empty()) image.extra["labelbox_global_key"] = row.global_key;
    std::map<std::string, cv::Mat> decoded;  // This row's masks (a composite mask serves many objects).
    for (const auto& s : row.shapes) {
      if (s.kind != Kind::kMask || !masks_.count(s.mask_url) || decoded.count(s.mask_url + Key(s))) continue;
      cv::Mat m = InstanceMask(s, s.mask_url, masks_.at(s.mask_url));
      if (!m.empty() && image.width == 0) image.width = m.cols, image.height = m.rows;
      decoded[s.mask_url + Key(s)] = m;
    }
    for (const auto& s : row.shapes)
      if (NeedsFlip(s)) {
        EnsureSize(&image, row);
        report_->y_flipped = true;
      }
    for (const auto& s : row.shapes) {
      legacy_seen_ |= s.legacy_xy;
      switch (s.kind) {
        case Kind::kPoint: Skip("point (not a region)"); break;
        case Kind::kLine: Skip("line (not a region)"); break;
        case Kind::kPolygon: AddPolygon(s, image); break;
        case Kind::kBox: AddBox(s, image); break;
        case Kind::kMask: {
          auto it = decoded.find(s.mask_url + Key(s));
          AddMask(s, image, it == decoded.end() ? cv::Mat() : it->second);
          break;
        }
      }
    }
    dataset_.images.push_back(std::move(image));
  }

  static std::string Key(const LabelboxShape& s) {
    return s.has_color ? "#" + std::to_string(s.color_rgb[0]) + "," + std::to_string(s.color_rgb[1]) + "," +
                             std::to_string(s.color_rgb[2])
                       : "";
  }

  CocoAnnotation& NewAnnotation(const LabelboxShape& s, const CocoImage& image) {
    CocoAnnotation a;
    a.id = int64_t(dataset_.annotations.size() + 1);
    a.image_id = image.id;
    a.category_id = category_of_.at(s.class_name);
    ++report_->annotations_per_class[s.class_name];
    dataset_.annotations.push_back(std::move(a));
    return dataset_.annotations.back();
  }

  void FlipRing(std::vector<double>* ring, int height) const {
    for (size_t i = 1; i < ring->size(); i += 2) (*ring)[i] = height - (*ring)[i];
  }

  void AddPolygon(const LabelboxShape& s, const CocoImage& image) {
    std::vector<std::vector<double>> exteriors, holes;
    for (WktPolygon p : s.polygons) {
      if (NeedsFlip(s)) {
        FlipRing(&p.exterior, image.height);
        for (auto& h : p.holes) FlipRing(&h, image.height);
      }
      if (p.exterior.size() >= 6 && std::abs(ShoelaceArea(p.exterior)) > 0) exteriors.push_back(p.exterior);
      for (auto& h : p.holes)
        if (h.size() >= 6) holes.push_back(h);
    }
    if (exteriors.empty()) return Skip("degenerate polygon (< 3 points or zero area)");
    const bool size_known = image.width > 0 && image.height > 0;
    CocoAnnotation& a = NewAnnotation(s, image);
    a.bbox = PolygonBounds(exteriors);
    if (!size_known) {
      a.segmentation.polygons = exteriors;
      for (const auto& e : exteriors) a.area += std::abs(ShoelaceArea(e));
      if (!holes.empty()) report_->skipped_objects["polygon hole dropped (image size unknown)"] += int(holes.size());
      return;
    }
    const uint32_t h = uint32_t(image.height), w = uint32_t(image.width);
    Rle outer = RleFromPolygons(exteriors, h, w);
    if (holes.empty()) {
      a.segmentation.polygons = exteriors;
      a.area = double(RleArea(outer));
      return;
    }
    // COCO polygons cannot have holes: subtract them in mask space and store an RLE.
    std::vector<uint8_t> keep(size_t(h) * w), hole(size_t(h) * w);
    RleDecode(outer, keep.data());
    RleDecode(RleFromPolygons(holes, h, w), hole.data());
    for (size_t i = 0; i < keep.size(); ++i) keep[i] = keep[i] && !hole[i];
    a.segmentation.rle = RleEncode(keep.data(), h, w);
    a.area = double(RleArea(*a.segmentation.rle));
  }

  void AddBox(const LabelboxShape& s, const CocoImage& image) {
    auto [left, top, width, height] = s.box;
    if (NeedsFlip(s)) top = image.height - top - height;
    if (width <= 0 || height <= 0) return Skip("degenerate box (zero width or height)");
    CocoAnnotation& a = NewAnnotation(s, image);
    a.bbox = {left, top, width, height};
    a.segmentation.polygons = {{left, top, left + width, top, left + width, top + height, left, top + height}};
    a.area = width * height;
  }

  void AddMask(const LabelboxShape& s, const CocoImage& image, const cv::Mat& mask) {
    if (!masks_.count(s.mask_url)) {
      ++report_->mask_failures;
      return Skip("mask download failed");
    }
    if (mask.empty()) {
      ++report_->mask_failures;
      Warn(s.where + ": " + RedactUrl(s.mask_url) + ": not a readable PNG mask");
      return Skip("mask unreadable");
    }
    if (mask.cols != image.width || mask.rows != image.height) {
      Warn(s.where + ": mask is " + std::to_string(mask.cols) + "x" + std::to_string(mask.rows) + ", image is " +
           std::to_string(image.width) + "x" + std::to_string(image.height));
      return Skip("mask size differs from the image");
    }
    cv::Mat continuous = mask.isContinuous() ? mask : mask.clone();
    Rle rle = RleEncode(continuous.ptr<uint8_t>(), uint32_t(mask.rows), uint32_t(mask.cols));
    const uint64_t area = RleArea(rle);
    if (area == 0) return Skip("empty mask (no pixel of the instance color)");
    CocoAnnotation& a = NewAnnotation(s, image);
    a.bbox = RleToBbox(rle);
    a.area = double(area);
    a.segmentation.rle = std::move(rle);
  }

  const LabelboxOptions& options_;
  LabelboxReport* report_;
  CocoDataset dataset_;
  std::map<std::string, int64_t> category_of_;
  std::map<std::string, fs::path> masks_;
  bool legacy_seen_ = false;
};

}  // namespace

CocoDataset LabelboxToCoco(const LabelboxOptions& options, LabelboxReport* report) {
  LabelboxReport local;
  return Converter(options, report ? report : &local).Run();
}

LabelboxReport ConvertLabelbox(const LabelboxOptions& options) {
  // Before the masks are fetched: a refusal must not come after minutes of downloads.
  CheckOutputFile(options.output, options.overwrite, {"labelbox2coco", "--output", "COCO JSON", {}},
                  [](const std::filesystem::path& p) { return FileStartsWith(p, '{'); });
  LabelboxReport report;
  const CocoDataset dataset = LabelboxToCoco(options, &report);
  SaveCoco(dataset, options.output);
  Info("labelbox2coco: " + options.input.string() + ": " + report.flavour);
  Info("  rows " + WithCommas(report.rows) + " (skipped " + WithCommas(report.skipped_rows) + "), images " +
       WithCommas(report.images) + ", annotations " + WithCommas(report.annotations) + ", categories " +
       WithCommas((long long)dataset.categories.size()));
  for (const auto& [name, n] : report.annotations_per_class) Info("  class " + name + ": " + WithCommas(n));
  for (const auto& [reason, n] : report.skipped_objects) Info("  skipped " + WithCommas(n) + ": " + reason);
  const int not_regions = (report.skipped_objects.count("point (not a region)") ? report.skipped_objects.at("point (not a region)") : 0) +
                          (report.skipped_objects.count("line (not a region)") ? report.skipped_objects.at("line (not a region)") : 0);
  if (not_regions > 0)
    Warn(WithCommas(not_regions) + " point/line objects are not regions and were not converted (see the counts above)");
  if (report.mask_failures > 0)
    Warn(WithCommas(report.mask_failures) + " masks could not be fetched or read; their objects are not in " +
         options.output.string());
  return report;
}

}  // namespace segtune
