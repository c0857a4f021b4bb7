// The front end starts without LibTorch or OpenCV (cli/verb.h, docs/architecture.md): --version,
// --help, every verb's --help and the light verbs must not map either library, while a verb whose
// work needs them loads the plugin. Checked from the process's own /proc/self/maps at exit
// (preload/maps_dump.cpp). Start-up time and memory are measured by bench/startup_bench.sh.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/tfrecord.h"
#include "test_util.h"

namespace {

using segtune::testing::RunCommand;
using segtune::testing::TempDir;

// Runs segtune with `args` and returns what it had mapped when it exited.
std::string MapsAfter(const TempDir& dir, const std::string& args, int expected_exit = 0,
                      const std::string& binary = SEGTUNE_BINARY) {
  const std::string maps = (dir / "maps.txt").string();
  std::filesystem::remove(maps);
  const auto r = RunCommand("SEGTUNE_TEST_MAPS_OUT='" + maps + "' LD_PRELOAD='" + SEGTUNE_TEST_MAPS_DUMP + "' '" +
                            binary + "' " + args);
  EXPECT_EQ(r.exit_code, expected_exit) << args << "\n" << r.output;
  std::ifstream in(maps);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << "no maps written for: " << args;
  return text.str();
}

// The loaded files whose names contain any of `names`, one per line ("" if none).
std::string Loaded(const std::string& maps, const std::vector<std::string>& names) {
  std::string found;
  std::istringstream lines(maps);
  for (std::string line; std::getline(lines, line);) {
    for (const auto& n : names) {
      if (line.find(n) != std::string::npos && found.find(line.substr(line.rfind(' ') + 1)) == std::string::npos) {
        found += line.substr(line.rfind(' ') + 1) + "\n";
      }
    }
  }
  return found;
}

const std::vector<std::string> kHeavy = {"libtorch", "libc10", "libopencv", "libsegtune_plugin"};

class Startup : public ::testing::Test {
 protected:
  void SetUp() override {
    coco_ = (dir_ / "coco.json").string();
    std::ofstream(coco_) << R"({"images":[{"id":1,"file_name":"a.png","width":10,"height":10}],
      "annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[1,1,4,4],"area":16,"iscrowd":0,
                      "segmentation":[[1,1,5,1,5,5,1,5]]}],
      "categories":[{"id":1,"name":"bottle"}]})";
    dt_ = (dir_ / "dt.json").string();
    std::ofstream(dt_) << R"([{"image_id":1,"category_id":1,"bbox":[1,1,4,4],"score":0.9}])";
    const std::vector<uint8_t> pixels(100, 128);
    segtune::WriteFileAtomic(dir_ / "a.png", segtune::EncodeGrayPng(pixels.data(), 10, 10));
    records_ = (dir_ / "a.record").string();
    tensorflow::Example example;
    (*example.mutable_features()->mutable_feature())["image/height"].mutable_int64_list()->add_value(10);
    segtune::TFRecordWriter writer(records_);
    writer.Write(example.SerializeAsString());
    writer.Close();
  }
  TempDir dir_;
  std::string coco_, dt_, records_;
};

TEST_F(Startup, LightCommandsLoadNeitherLibTorchNorOpenCv) {
  const std::vector<std::string> commands = {
      "--version",
      "--help",
      "train --help",
      "infer --help",
      "labelmap '" + coco_ + "' -o '" + (dir_ / "label_map.pbtxt").string() + "'",
      "records info '" + records_ + "'",
      "records verify '" + records_ + "'",
      "coco2tfrecord --annotations '" + coco_ + "' --images-dir '" + dir_.path().string() + "' -o '" +
          (dir_ / "out.record").string() + "' --include-masks --semantic-masks",
      "split '" + coco_ + "' --train 1 --val 0 --test 0 -o '" + (dir_ / "split").string() + "'",
      "coco-eval --groundtruth '" + coco_ + "' --predictions '" + dt_ + "' -o '" + (dir_ / "metrics.json").string() + "'",
  };
  for (const auto& args : commands) {
    const std::string maps = MapsAfter(dir_, args);
    EXPECT_EQ(Loaded(maps, kHeavy), "") << "segtune " << args;
    EXPECT_NE(Loaded(maps, {"libsegtune_core"}), "") << "segtune " << args << ": not the shared-core build?";
  }
}

// The control: the check above would pass for a binary that never loads anything.
TEST_F(Startup, WorkThatNeedsLibTorchLoadsThePlugin) {
  const std::string maps = MapsAfter(dir_, "models");
  EXPECT_NE(Loaded(maps, {"libsegtune_plugin"}), "") << maps;
  EXPECT_NE(Loaded(maps, {"libtorch"}), "") << maps;
}

// The dataset verbs' work needs OpenCV but not LibTorch: it runs in the data plugin, which starts
// without loading LibTorch (~0.4 s and ~160 MB saved on every convert, validate, ...).
TEST_F(Startup, DatasetWorkLoadsTheDataPluginWithoutLibTorchAndTheCodecsOnlyToDecode) {
  // The same dataset with a JPEG image: segtune decodes PNGs itself, JPEGs with OpenCV's codecs.
  cv::Mat gray(10, 10, CV_8UC1, cv::Scalar(128));
  std::vector<uchar> jpeg;
  ASSERT_TRUE(cv::imencode(".jpg", gray, jpeg));
  segtune::WriteFileAtomic(dir_ / "b.jpg", std::string(jpeg.begin(), jpeg.end()));
  std::string with_jpeg = segtune::ReadFile(coco_);
  with_jpeg.replace(with_jpeg.find("a.png"), 5, "b.jpg");
  segtune::WriteFileAtomic(dir_ / "coco_jpeg.json", with_jpeg);

  const std::string images = "' --images-dir '" + dir_.path().string() + "'";
  const struct {
    std::string args;
    bool codecs;  // Whether OpenCV's image codecs (and GDAL behind them) must be loaded.
  } runs[] = {{"convert --from coco --to yolo '" + coco_ + "' -o '" + (dir_ / "yolo").string() + "'", false},
              {"validate '" + coco_ + images, false},  // Decodes a.png itself (formats/png_decode.h).
              {"validate '" + (dir_ / "coco_jpeg.json").string() + images, true}};
  for (const auto& run : runs) {
    const std::string maps = MapsAfter(dir_, run.args);
    EXPECT_NE(Loaded(maps, {"libsegtune_data_plugin"}), "") << "segtune " << run.args << "\n" << maps;
    EXPECT_NE(Loaded(maps, {"libopencv_core"}), "") << "segtune " << run.args;
    EXPECT_EQ(Loaded(maps, {"libtorch", "libc10", "libsegtune_plugin"}), "") << "segtune " << run.args;
    // Loaded on first use only (data/opencv_codecs.h).
    EXPECT_EQ(Loaded(maps, {"libopencv_imgcodecs"}) != "", run.codecs) << "segtune " << run.args;
    EXPECT_EQ(Loaded(maps, {"libgdal"}) != "", run.codecs) << "segtune " << run.args;
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ / "yolo" / "data.yaml"));
}

TEST_F(Startup, MissingDataPluginIsAClearError) {
  const auto r = RunCommand("SEGTUNE_DATA_PLUGIN_PATH='" + (dir_ / "nowhere.so").string() + "' '" + SEGTUNE_BINARY +
                            "' validate '" + coco_ + "'");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("nowhere.so: cannot load segtune's plugin"), std::string::npos) << r.output;
}

TEST_F(Startup, MissingPluginIsAClearError) {
  const auto r = RunCommand("SEGTUNE_PLUGIN_PATH='" + (dir_ / "nowhere.so").string() + "' '" + SEGTUNE_BINARY +
                            "' models");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("nowhere.so: cannot load segtune's plugin"), std::string::npos) << r.output;
  // The light verbs do not need it.
  const auto light = RunCommand("SEGTUNE_PLUGIN_PATH='" + (dir_ / "nowhere.so").string() + "' '" + SEGTUNE_BINARY +
                                "' records info '" + records_ + "'");
  EXPECT_EQ(light.exit_code, 0) << light.output;
}

// Checks on plain options run in the front end: the usage error comes without loading the plugin.
TEST_F(Startup, PlainOptionErrorsNeedNoPlugin) {
  const std::string no_plugin = "SEGTUNE_PLUGIN_PATH='" + (dir_ / "nowhere.so").string() + "' '" + SEGTUNE_BINARY + "' ";
  const struct {
    std::string args, message;
  } cases[] = {{"infer --model m", "pass --input"},
               {"infer --model m --input x.record", "nothing to write"},
               {"inspect", "give MODEL or --model NAME"},
               {"export --checkpoint c.pth -o out --input-size 5x", "--input-size 5x: expected HEIGHTxWIDTH"},
               {"synth --out s --size 0x5", "--size 0x5: expected WIDTHxHEIGHT"}};
  for (const auto& c : cases) {
    const auto r = RunCommand(no_plugin + c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_EQ(r.output.find("cannot load segtune's plugin"), std::string::npos) << c.args << "\n" << r.output;
  }
}

// The executable finds its plugins and libraries in its own folder (RUNPATH $ORIGIN), so the six
// files work wherever they are copied together (README).
TEST_F(Startup, TheFilesCopiedTogetherRunElsewhere) {
  const std::filesystem::path from = std::filesystem::path(SEGTUNE_BINARY).parent_path();
  const std::filesystem::path to = dir_ / "elsewhere";
  std::filesystem::create_directories(to);
  for (const char* name : {"segtune", "libsegtune_plugin.so", "libsegtune_data_plugin.so", "libsegtune_infer_plugin.so",
                           "libsegtune_core.so", "libsegtune_formats.so"}) {
    std::filesystem::copy_file(from / name, to / name);
  }
  // Each library from the copy, none from the build folder.
  const std::string maps = MapsAfter(dir_, "models", 0, (to / "segtune").string());
  for (const char* name : {"libsegtune_plugin.so", "libsegtune_core.so", "libsegtune_formats.so"}) {
    EXPECT_NE(Loaded(maps, {(to / name).string()}), "") << name << "\n" << Loaded(maps, {"libsegtune"});
    EXPECT_EQ(Loaded(maps, {(from / name).string()}), "") << name << "\n" << Loaded(maps, {"libsegtune"});
  }
}

// cli/startup_environment.h: the dataset verbs re-execute with glibc's malloc asking for transparent
// huge pages when the kernel gives them on request (and the heap then carries the "hg" flag); light
// verbs do not, and a user's own GLIBC_TUNABLES setting of it is kept.
class StartupEnvironment : public Startup {
 protected:
  struct Seen {
    std::string environ, smaps;
  };
  // Runs segtune with `tunables` (unset if null) in the environment; what the process had at exit.
  Seen Run(const std::string& args, const char* tunables) {
    const std::string environ_file = (dir_ / "environ").string(), smaps_file = (dir_ / "smaps").string();
    std::filesystem::remove(environ_file);
    std::filesystem::remove(smaps_file);
    const std::string set = tunables ? "env GLIBC_TUNABLES='" + std::string(tunables) + "' " : "env -u GLIBC_TUNABLES ";
    const auto r = segtune::testing::RunCommand(set + "SEGTUNE_TEST_ENVIRON_OUT='" + environ_file +
                                                "' SEGTUNE_TEST_SMAPS_OUT='" + smaps_file + "' LD_PRELOAD='" +
                                                SEGTUNE_TEST_MAPS_DUMP + "' '" + SEGTUNE_BINARY + "' " + args);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.output;
    Seen seen;
    std::ifstream e(environ_file), s(smaps_file);
    std::stringstream et, st;
    et << e.rdbuf();
    st << s.rdbuf();
    seen.environ = et.str();
    seen.smaps = st.str();
    return seen;
  }
  static bool HugePagesOnRequest() {
    std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string line;
    return std::getline(mode, line) && line.find("[madvise]") != std::string::npos;
  }
  // The VmFlags line of the [heap] mapping ("" if there is none).
  static std::string HeapFlags(const std::string& smaps) {
    const size_t heap = smaps.find("[heap]");
    if (heap == std::string::npos) return "";
    const size_t flags = smaps.find("VmFlags:", heap);
    return flags == std::string::npos ? "" : smaps.substr(flags, smaps.find('\n', flags) - flags);
  }
};

const std::string kHeapReuse =
    "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456:glibc.malloc.top_pad=16777216";

TEST_F(StartupEnvironment, DatasetVerbsAskMallocForHugePagesAndHeapReuse) {
  const std::string convert = "convert --from coco --to yolo '" + coco_ + "' -o '" + (dir_ / "yolo").string() + "' --overwrite";
  const Seen seen = Run(convert, nullptr);
  EXPECT_EQ(seen.environ.find("SEGTUNE_STARTUP_ENVIRONMENT_REEXEC"), std::string::npos) << "marker left for children";
  if (!HugePagesOnRequest()) {
    EXPECT_NE(seen.environ.find("GLIBC_TUNABLES=" + kHeapReuse + "\n"), std::string::npos) << seen.environ;
    GTEST_SKIP() << "transparent huge pages are not in madvise mode on this machine";
  }
  EXPECT_NE(seen.environ.find("GLIBC_TUNABLES=glibc.malloc.hugetlb=1:" + kHeapReuse + "\n"), std::string::npos)
      << seen.environ;
  EXPECT_NE(HeapFlags(seen.smaps).find(" hg"), std::string::npos) << HeapFlags(seen.smaps);
  // Without the setting (the control): the heap does not ask.
  const Seen control = Run(convert, "glibc.malloc.hugetlb=0");
  EXPECT_NE(control.environ.find("GLIBC_TUNABLES=glibc.malloc.hugetlb=0:" + kHeapReuse + "\n"), std::string::npos)
      << control.environ;
  EXPECT_EQ(HeapFlags(control.smaps).find(" hg"), std::string::npos) << HeapFlags(control.smaps);
}

TEST_F(StartupEnvironment, LightVerbsAndUserSettingsAreLeftAlone) {
  const Seen light = Run("labelmap '" + coco_ + "' -o '" + (dir_ / "label_map.pbtxt").string() + "'", nullptr);
  EXPECT_EQ(light.environ.find("GLIBC_TUNABLES"), std::string::npos) << light.environ;
  const Seen other = Run("convert --from coco --to yolo '" + coco_ + "' -o '" + (dir_ / "yolo2").string() + "'",
                         "glibc.malloc.arena_max=2");
  const std::string expected = HugePagesOnRequest()
                                   ? "GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1:" + kHeapReuse + "\n"
                                   : "GLIBC_TUNABLES=glibc.malloc.arena_max=2:" + kHeapReuse + "\n";
  EXPECT_NE(other.environ.find(expected), std::string::npos) << other.environ;
  // A user's own threshold is kept.
  const Seen own = Run("convert --from coco --to yolo '" + coco_ + "' -o '" + (dir_ / "yolo3").string() + "'",
                       "glibc.malloc.hugetlb=0:glibc.malloc.mmap_threshold=65536");
  EXPECT_NE(own.environ.find("GLIBC_TUNABLES=glibc.malloc.hugetlb=0:glibc.malloc.mmap_threshold=65536\n"),
            std::string::npos) << own.environ;
}

}  // namespace
