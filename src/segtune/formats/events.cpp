#include "segtune/formats/events.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "event.pb.h"
#include "segtune/core/error.h"
#include "segtune/formats/tfrecord.h"

namespace segtune {

std::string EventFileName(int64_t unix_seconds) {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "localhost");
  char name[512];
  std::snprintf(name, sizeof name, "events.out.tfevents.%010lld.%s.%d.segtune", static_cast<long long>(unix_seconds),
                host, static_cast<int>(getpid()));
  return name;
}

double WallTimeNow() {
  using namespace std::chrono;
  return duration_cast<duration<double>>(system_clock::now().time_since_epoch()).count();
}

namespace {

// Two writers opened in the same second by the same process (train + eval) must not share a file.
std::filesystem::path UnusedEventPath(const std::filesystem::path& dir, const std::string& name) {
  std::filesystem::path path = dir / name;
  const std::string stem = name.substr(0, name.size() - std::string(".segtune").size());
  for (int n = 1; std::filesystem::exists(path); ++n) path = dir / (stem + "." + std::to_string(n) + ".segtune");
  return path;
}

}  // namespace

EventWriter::EventWriter(const std::filesystem::path& log_dir) {
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  if (ec) throw IoError(log_dir.string() + ": cannot create the event directory (" + ec.message() + ")");
  const double now = WallTimeNow();
  path_ = UnusedEventPath(log_dir, EventFileName(static_cast<int64_t>(now)));
  writer_ = TFRecordWriter::OpenAppendable(path_);
  tensorboard::Event first;
  first.set_wall_time(now);
  first.set_file_version("brain.Event:2");
  Write(first);
}

EventWriter::~EventWriter() = default;

void EventWriter::Write(tensorboard::Event& event) {
  if (event.wall_time() == 0) event.set_wall_time(WallTimeNow());
  writer_->Write(event.SerializeAsString());
  writer_->Flush();
}

void EventWriter::AddScalar(const std::string& tag, double value, int64_t step) {
  tensorboard::Event event;
  event.set_step(step);
  auto* v = event.mutable_summary()->add_value();
  v->set_tag(tag);
  v->set_simple_value(static_cast<float>(value));
  Write(event);
}

void EventWriter::AddEncodedImage(const std::string& tag, std::string_view encoded, int height, int width,
                                  int colorspace, int64_t step) {
  tensorboard::Event event;
  event.set_step(step);
  auto* v = event.mutable_summary()->add_value();
  v->set_tag(tag);
  auto* image = v->mutable_image();
  image->set_height(height);
  image->set_width(width);
  image->set_colorspace(colorspace);
  image->set_encoded_image_string(std::string(encoded));
  Write(event);
}

void EventWriter::AddGraph(const tensorboard::GraphDef& graph) {
  tensorboard::Event event;
  event.set_step(0);
  event.set_graph_def(graph.SerializeAsString());
  Write(event);
}

}  // namespace segtune
