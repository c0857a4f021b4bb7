#include "segtune/data/convert/yolo_config.h"

#include <algorithm>
#include <cstring>
#include <cctype>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/convert/mask_annotations.h"
#include "segtune/formats/data_yaml.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

// Ultralytics' image suffixes (IMG_FORMATS); the reader needs a header ReadImageSize knows, and
// warns about the others.
bool IsImageFile(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* kExts[] = {".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp", ".pfm", ".heic"};
  return std::find(std::begin(kExts), std::end(kExts), ext) != std::end(kExts);
}

// `p` normalized, without the trailing separator lexically_normal leaves after "." or "..".
fs::path Normal(const fs::path& p) {
  fs::path n = p.lexically_normal();
  return n.has_filename() || !n.has_parent_path() ? n : n.parent_path();
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::vector<std::string> ReadLines(const fs::path& file) {
  std::vector<std::string> lines;
  const std::string text = ReadFile(file);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

// obj.names / classes.txt: one name per line; trailing blank lines ignored, inner ones an error.
std::vector<std::string> ReadNamesFile(const fs::path& file) {
  std::vector<std::string> lines = ReadLines(file);
  while (!lines.empty() && Trim(lines.back()).empty()) lines.pop_back();
  std::vector<std::string> names;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string name = Trim(lines[i]);
    if (i == 0 && name.rfind("\xEF\xBB\xBF", 0) == 0) name = name.substr(3);
    if (name.empty()) throw FormatError(file, "line " + std::to_string(i + 1), "empty class name (one name per line)");
    names.push_back(name);
  }
  if (names.empty()) throw FormatError(file, "", "no class names (expected one name per line)");
  return names;
}

int ParseCount(const std::string& text, const fs::path& file, int line, const std::string& key) {
  int n = -1;
  try {
    size_t used = 0;
    n = std::stoi(text, &used);
    if (used != text.size()) n = -1;
  } catch (const std::exception&) {
  }
  if (n < 0) throw FormatError(file, "line " + std::to_string(line), key + ": expected a non-negative integer, got '" + text + "'");
  return n;
}

void CheckNamesCount(const YoloConfig& config, int count, int line) {
  if (count != static_cast<int>(config.names.size())) {
    throw FormatError(config.config_file, "line " + std::to_string(line),
                      "the class count " + std::to_string(count) + " differs from the " +
                          std::to_string(config.names.size()) + " names");
  }
}

YoloSplitSource MakeSource(const std::string& split, const fs::path& path, const std::string& origin) {
  std::error_code ec;
  const bool list = fs::is_regular_file(path, ec);
  return {split, path, list, origin};
}

// ---- Ultralytics data.yaml ----------------------------------------------------------------------

const YamlValue& Need(const YamlDocument& doc, const YamlValue& v, const std::string& key) {
  if (v.kind == YamlValue::kUnsupported) {
    throw FormatError(doc.file, "line " + std::to_string(v.unsupported_line),
                      key + ": uses " + v.unsupported + ", beyond the YAML subset segtune reads (docs/formats.md §17)");
  }
  return v;
}

std::vector<std::string> YamlNames(const YamlDocument& doc, const YamlValue& v) {
  std::vector<std::string> names;
  if (v.kind == YamlValue::kList) {
    for (const auto& item : v.items) names.push_back(item.text);
    return names;
  }
  if (v.kind != YamlValue::kMap) {
    throw FormatError(doc.file, "line " + std::to_string(v.line), "names: expected a list [a, b] or a map {0: a, 1: b}");
  }
  names.resize(v.entries.size());
  std::vector<bool> seen(v.entries.size(), false);
  for (const auto& [key, value] : v.entries) {
    int id = -1;
    try {
      size_t used = 0;
      id = std::stoi(key.text, &used);  // Ultralytics takes int(key): '0' counts as 0.
      if (used != key.text.size()) id = -1;
    } catch (const std::exception&) {
    }
    if (id < 0 || id >= static_cast<int>(names.size()) || seen[id]) {
      throw FormatError(doc.file, "line " + std::to_string(key.line),
                        "names: key '" + key.text + "': expected each class id 0.." + std::to_string(names.size() - 1) + " once");
    }
    seen[id] = true;
    names[id] = value.text;
  }
  return names;
}

// Ultralytics resolves train/val/test against the root and, failing that, retries a leading "../"
// without it (Roboflow writes "../train/images" beside a data.yaml in the dataset folder).
fs::path ResolveSplitPath(const fs::path& root, const std::string& text) {
  const fs::path p = fs::path(text).is_absolute() ? fs::path(text) : root / text;
  std::error_code ec;
  if (!fs::exists(p, ec) && text.rfind("../", 0) == 0) {
    const fs::path stripped = root / text.substr(3);
    if (fs::exists(stripped, ec)) return Normal(stripped);
  }
  return Normal(p);
}

void AddYamlSplit(const YamlDocument& doc, const YamlValue& v, const std::string& split, const fs::path& root,
                  YoloConfig* config, ConversionReport* report) {
  std::vector<YamlScalar> paths;
  if (v.kind == YamlValue::kScalar) {
    if (v.scalar.IsNull()) return;
    paths.push_back(v.scalar);
  } else if (v.kind == YamlValue::kList) {
    paths = v.items;
  } else {
    throw FormatError(doc.file, "line " + std::to_string(v.line), split + ": expected a path or a list of paths");
  }
  for (const auto& p : paths) {
    const fs::path resolved = ResolveSplitPath(root, p.text);
    std::error_code ec;
    if (!fs::exists(resolved, ec)) {
      // Ultralytics itself requires only val; dataset files name a test split they do not ship
      // (coco.yaml's test-dev2017.txt).
      if (split == "test") {
        report->Warn(doc.file, "line " + std::to_string(p.line), "test: " + resolved.string() + " does not exist; split skipped");
        continue;
      }
      throw FormatError(doc.file, "line " + std::to_string(p.line),
                        split + ": " + resolved.string() + " does not exist (expected a folder of images or a list file)");
    }
    config->sources.push_back(MakeSource(split, resolved, "line " + std::to_string(p.line)));
  }
}

YoloConfig LoadUltralytics(const fs::path& file, ConversionReport* report) {
  const YamlDocument doc = ParseDataYaml(ReadFile(file), file);
  YoloConfig config;
  config.config_file = file;
  const fs::path dir = file.parent_path();
  config.root = dir;
  if (const YamlValue* path = doc.Find("path")) {
    const YamlValue& v = Need(doc, *path, "path");
    if (v.kind != YamlValue::kScalar) throw FormatError(file, "line " + std::to_string(v.line), "path: expected one path");
    if (!v.scalar.IsNull()) {
      // Ultralytics resolves a relative path against its settings' datasets_dir, which a file cannot
      // name; segtune uses the yaml's folder, and the folder itself when that does not exist.
      const fs::path p = fs::path(v.scalar.text).is_absolute() ? fs::path(v.scalar.text) : dir / v.scalar.text;
      std::error_code ec;
      if (fs::is_directory(p, ec)) {
        config.root = Normal(p);
      } else {
        report->Warn(file, "line " + std::to_string(v.line),
                     "path '" + v.scalar.text + "' is not a folder here; using the yaml's folder " + dir.string());
      }
    }
  }
  if (const YamlValue* kpt = doc.Find("kpt_shape")) {
    throw FormatError(file, "line " + std::to_string(kpt->line), "kpt_shape: keypoint (pose) datasets are not supported; "
                      "their label lines are not boxes or polygons");
  }
  const YamlValue* names = doc.Find("names");
  const YamlValue* nc = doc.Find("nc");
  if (names == nullptr && nc == nullptr) throw FormatError(file, "", "expected 'names' (or 'nc') with the class names");
  if (names != nullptr && !(names->kind == YamlValue::kScalar && names->scalar.IsNull())) {
    config.names = YamlNames(doc, Need(doc, *names, "names"));
  }
  if (nc != nullptr) {
    const YamlValue& v = Need(doc, *nc, "nc");
    if (v.kind != YamlValue::kScalar) throw FormatError(file, "line " + std::to_string(v.line), "nc: expected an integer");
    const int count = ParseCount(v.scalar.text, file, v.line, "nc");
    if (config.names.empty()) {
      for (int i = 0; i < count; ++i) config.names.push_back("class_" + std::to_string(i));  // As Ultralytics does.
    }
    CheckNamesCount(config, count, v.line);
  }
  bool any_split = false;
  for (const auto& [key, split] : {std::pair<std::string, std::string>{"train", "train"}, {"val", "val"},
                                   {"validation", "val"}, {"test", "test"}}) {
    if (const YamlValue* v = doc.Find(key)) {
      AddYamlSplit(doc, Need(doc, *v, key), split, config.root, &config, report);
      any_split = true;
    }
  }
  if (!any_split) throw FormatError(file, "", "expected 'train' and 'val' with the image folders or list files");
  static const char* kUsed[] = {"path", "names", "nc", "train", "val", "validation", "test"};
  for (const auto& [key, v] : doc.keys) {
    if (std::find(std::begin(kUsed), std::end(kUsed), key) == std::end(kUsed)) {
      report->Warn(file, "line " + std::to_string(v.line), "key '" + key + "' ignored");
    }
  }
  return config;
}

// ---- Darknet obj.data / obj.names ---------------------------------------------------------------

// The prefix darknet's own layout puts on every path (CVAT's "YOLO 1.1" export writes
// `train = data/train.txt` and list lines `data/obj_train_data/x.jpg`): the folder obj.data is in,
// whatever it is called once unpacked.
constexpr const char* kDarknetDataPrefix = "data/";

// `text` without a leading "data/" naming `dir` itself, or "" if it has none or that is not there.
fs::path UnderDataFolder(const fs::path& dir, const std::string& text) {
  std::error_code ec;
  if (text.rfind(kDarknetDataPrefix, 0) != 0) return {};
  const fs::path p = dir / text.substr(std::strlen(kDarknetDataPrefix));
  return fs::exists(p, ec) ? p : fs::path();
}

// Darknet paths are relative to the folder darknet runs in, usually the one above data/obj.data:
// try the config's folder, then its parent, then the config's folder standing for "data/".
fs::path ResolveDarknetPath(const fs::path& dir, const std::string& text, fs::path* root) {
  if (fs::path(text).is_absolute()) return text;
  std::error_code ec;
  for (const fs::path& base : {dir, dir.parent_path()}) {
    if (fs::exists(base / text, ec)) {
      *root = base;
      return Normal(base / text);
    }
  }
  if (const fs::path p = UnderDataFolder(dir, text); !p.empty()) return Normal(p);
  return Normal(dir / text);
}

YoloConfig LoadDarknetData(const fs::path& file) {
  YoloConfig config;
  config.config_file = file;
  config.root = file.parent_path();
  const std::vector<std::string> lines = ReadLines(file);
  int classes = -1, classes_line = 0;
  fs::path names_file;
  for (size_t i = 0; i < lines.size(); ++i) {
    const int number = static_cast<int>(i + 1);
    std::string line = lines[i].substr(0, lines[i].find('#'));
    if (Trim(line).empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) throw FormatError(file, "line " + std::to_string(number), "expected 'key = value'");
    const std::string key = Trim(line.substr(0, eq));
    const std::string value = Trim(line.substr(eq + 1));
    const std::string origin = "line " + std::to_string(number);
    if (key == "classes") {
      classes = ParseCount(value, file, number, "classes");
      classes_line = number;
    } else if (key == "names") {
      names_file = ResolveDarknetPath(file.parent_path(), value, &config.root);
    } else if (key == "train" || key == "valid" || key == "test") {
      const fs::path p = ResolveDarknetPath(file.parent_path(), value, &config.root);
      std::error_code ec;
      if (!fs::exists(p, ec)) {
        throw FormatError(file, "line " + std::to_string(number), key + ": " + p.string() + " does not exist (expected a list of image paths)");
      }
      config.sources.push_back(MakeSource(key == "valid" ? "val" : key, p, origin));
    }
    // backup, eval, results, ...: where darknet writes, nothing to read.
  }
  if (names_file.empty()) throw FormatError(file, "", "expected 'names = <file with one class name per line>'");
  config.names = ReadNamesFile(names_file);
  if (classes >= 0) CheckNamesCount(config, classes, classes_line);
  if (config.sources.empty()) throw FormatError(file, "", "expected 'train = <list of images>' (and 'valid =')");
  return config;
}

// A bare obj.names: its folder's train.txt / valid.txt / test.txt when present, else every image
// below the folder, without splits.
YoloConfig LoadDarknetNames(const fs::path& file) {
  YoloConfig config;
  config.config_file = file;
  config.root = file.parent_path();
  config.names = ReadNamesFile(file);
  std::error_code ec;
  for (const auto& [list, split] : {std::pair<std::string, std::string>{"train.txt", "train"}, {"valid.txt", "val"},
                                    {"val.txt", "val"}, {"test.txt", "test"}}) {
    if (fs::is_regular_file(config.root / list, ec)) config.sources.push_back({split, config.root / list, true, list});
  }
  if (config.sources.empty()) config.sources.push_back({"", config.root, false, config.root.string()});
  return config;
}

}  // namespace

fs::path FindYoloConfigFile(const fs::path& input) {
  std::error_code ec;
  if (fs::is_regular_file(input, ec)) return input;
  if (!fs::is_directory(input, ec)) return {};
  for (const char* name : {"data.yaml", "data.yml", "dataset.yaml"}) {
    if (fs::is_regular_file(input / name, ec)) return input / name;
  }
  fs::path only_yaml;
  int yamls = 0;
  for (const auto& entry : fs::directory_iterator(input, ec)) {
    const std::string ext = entry.path().extension().string();
    if ((ext == ".yaml" || ext == ".yml") && entry.is_regular_file(ec)) ++yamls, only_yaml = entry.path();
  }
  if (yamls == 1) return only_yaml;
  for (const char* name : {"obj.data", "obj.names", "data/obj.data"}) {  // data/obj.data: darknet's own layout.
    if (fs::is_regular_file(input / name, ec)) return input / name;
  }
  return {};
}

YoloConfig LoadYoloConfig(const fs::path& input, ConversionReport* report) {
  const fs::path file = FindYoloConfigFile(input);
  if (file.empty()) {
    throw FormatError(input, "", "no YOLO dataset file: expected data.yaml (Ultralytics) or obj.data / obj.names (Darknet)");
  }
  const std::string ext = file.extension().string();
  if (ext == ".yaml" || ext == ".yml") return LoadUltralytics(file, report);
  if (ext == ".data") return LoadDarknetData(file);
  if (ext == ".names" || ext == ".txt") return LoadDarknetNames(file);
  throw FormatError(file, "", "not a YOLO dataset file: expected a .yaml, .data or .names file");
}

std::vector<fs::path> YoloSourceImages(const YoloSplitSource& source, const fs::path& root) {
  if (!source.is_list) return FilesBelow(source.path, IsImageFile);
  std::vector<fs::path> images;
  std::error_code ec;
  const std::vector<std::string> lines = ReadLines(source.path);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string line = Trim(lines[i]);
    if (line.empty()) continue;
    fs::path p(line);
    if (line.rfind("./", 0) == 0) {
      p = source.path.parent_path() / line.substr(2);
    } else if (p.is_relative()) {
      p = root / line;
      if (!fs::exists(p, ec) && fs::exists(source.path.parent_path() / line, ec)) p = source.path.parent_path() / line;
      if (!fs::exists(p, ec)) {
        if (const fs::path under = UnderDataFolder(source.path.parent_path(), line); !under.empty()) p = under;
      }
    }
    images.push_back(p.lexically_normal());
  }
  return images;
}

}  // namespace segtune
