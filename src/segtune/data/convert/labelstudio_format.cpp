// Label Studio JSON and JSON-MIN (docs/formats.md §16): detection, image references and the table
// entry. Reading is labelstudio_read.cpp, writing labelstudio_write.cpp.
#include <cctype>

#include "segtune/core/url.h"
#include "segtune/data/convert/formats_list.h"
#include "segtune/data/convert/file_head.h"
#include "segtune/data/convert/json_input.h"
#include "segtune/data/convert/labelstudio.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

bool Has(const std::string& text, const char* key) { return text.find(key) != std::string::npos; }

// A JSON array whose first 4 KB hold a task ("annotations"/"predictions" with "data", or with a
// region's "original_width"/"from_name": Label Studio writes "data" after the annotations, which a
// brush mask can push past 4 KB) or a JSON-MIN record (a *labels value with original_width). Never
// CreateML's "coordinates".
int DetectLabelStudio(const fs::path& input) {
  std::error_code ec;
  if (!fs::is_regular_file(input, ec) || input.extension() != ".json") return 0;
  const std::string head = FileHead(input);
  if (FirstNonBlank(head) != '[' || Has(head, "\"coordinates\"")) return 0;
  const bool task = (Has(head, "\"annotations\"") || Has(head, "\"predictions\"")) &&
                    (Has(head, "\"data\"") || Has(head, "\"original_width\"") || Has(head, "\"from_name\""));
  const bool labels = Has(head, "labels\"") && Has(head, "\"original_width\"");
  return task || labels ? 20 : 0;
}

std::string PercentEncodePath(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string LabelStudioFileName(const std::string& data_image) {
  const std::string local = "/data/local-files/";
  if (data_image.rfind(local, 0) == 0) {
    const size_t d = data_image.find("d=");
    if (d != std::string::npos) {
      const size_t end = data_image.find('&', d);
      return PercentDecode(data_image.substr(d + 2, end == std::string::npos ? std::string::npos : end - d - 2));
    }
  }
  if (data_image.rfind("/data/upload/", 0) == 0) return PercentDecode(data_image.substr(data_image.rfind('/') + 1));
  return data_image;
}

std::string LabelStudioImageRef(const std::string& file_name) {
  if (IsUrl(file_name)) return file_name;
  return "/data/local-files/?d=" + PercentEncodePath(file_name);
}

AnnotationFormat LabelStudioAnnotationFormat() {
  return {"labelstudio", DetectLabelStudio, ReadLabelStudio, WriteLabelStudio};
}

}  // namespace segtune
