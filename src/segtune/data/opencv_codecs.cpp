#include "segtune/data/opencv_codecs.h"

#include <mutex>
#include <thread>
#include <type_traits>

#include <dlfcn.h>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/error.h"

namespace segtune {
namespace {

using DecodeFn = cv::Mat (*)(cv::InputArray, int);
using EncodeFn = bool (*)(const cv::String&, cv::InputArray, std::vector<uchar>&, const std::vector<int>&);
// The casts pick the overloads these pointers stand for and stop the build if OpenCV's signatures
// change; inside decltype they are not evaluated, so they do not make the library a link dependency.
static_assert(std::is_same_v<decltype(static_cast<DecodeFn>(&cv::imdecode)), DecodeFn>);
static_assert(std::is_same_v<decltype(static_cast<EncodeFn>(&cv::imencode)), EncodeFn>);

struct Codecs {
  DecodeFn decode;
  EncodeFn encode;
};

// The Itanium C++ ABI names of the two functions above (`nm -D` on the library).
constexpr const char* kDecodeSymbol = "_ZN2cv8imdecodeERKNS_11_InputArrayEi";
constexpr const char* kEncodeSymbol =
    "_ZN2cv8imencodeERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEERKNS_11_InputArrayERSt6vectorIhSaIhEERKSB_IiSaIiEE";

Codecs Load() {
  void* library = dlopen(SEGTUNE_OPENCV_IMGCODECS_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    throw Error(std::string("cannot load OpenCV's image codecs (needed to decode or encode images): ") + dlerror());
  }
  const Codecs codecs{reinterpret_cast<DecodeFn>(dlsym(library, kDecodeSymbol)),
                      reinterpret_cast<EncodeFn>(dlsym(library, kEncodeSymbol))};
  if (codecs.decode == nullptr || codecs.encode == nullptr) {
    throw Error(std::string(SEGTUNE_OPENCV_IMGCODECS_SONAME) +
                " does not export cv::imdecode and cv::imencode as segtune was built for: rebuild segtune "
                "against the installed OpenCV");
  }
  return codecs;
}

// Loaded once; a failed load throws and is tried again on the next call.
const Codecs& LoadedCodecs() {
  static const Codecs codecs = Load();
  return codecs;
}

// Joins the preloading thread at exit (a dlopen still running then finishes first).
struct PreloadThread {
  std::thread thread;
  ~PreloadThread() {
    if (thread.joinable()) thread.join();
  }
};

}  // namespace

void PreloadOpenCvCodecs() {
  static PreloadThread preload;
  static std::once_flag started;
  std::call_once(started, [] {
    preload.thread = std::thread([] {
      try {
        LoadedCodecs();
      } catch (const Error&) {  // Reported by the first decode, which tries again.
      }
    });
  });
}

cv::Mat DecodeWithOpenCv(const cv::Mat& bytes, int flags) { return LoadedCodecs().decode(bytes, flags); }

bool EncodeWithOpenCv(const std::string& extension, const cv::Mat& image, std::vector<uchar>* bytes,
                      const std::vector<int>& params) {
  return LoadedCodecs().encode(extension, image, *bytes, params);
}

}  // namespace segtune
