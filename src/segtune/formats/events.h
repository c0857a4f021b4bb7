// TensorBoard event files: what `tensorboard --logdir` reads for the Scalars, Images and Graphs tabs.
//
//   EventWriter events(train_dir);                // Creates events.out.tfevents.<secs>.<host>.<pid>.segtune
//   events.AddScalar("loss", 0.41, step);         // Summary.Value.simple_value
//   events.AddEncodedImage("overlay/0", png, height, width, 3, step);  // Summary.Image; engine/image_summary.h
//                                                                    // encodes an OpenCV image for it
//   events.AddGraph(graph_def);                   // Event.graph_def (serialized GraphDef)
//
// The file is TFRecord-framed `tensorboard.Event` protos (proto/event.proto, docs/formats.md §5). The first
// record is Event{wall_time, file_version: "brain.Event:2"}. Every Add*() writes one Event and flushes,
// so a TensorBoard polling the directory sees it at once and a killed run loses nothing already added.
// Not thread-safe: use one writer per thread (or guard it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace tensorboard {
class Event;
class GraphDef;
}  // namespace tensorboard

namespace segtune {

class TFRecordWriter;

class EventWriter {
 public:
  // Creates `log_dir` if missing and a new event file in it (a name already taken gets a ".N" before
  // ".segtune"). Throws IoError if the directory or file cannot be created.
  explicit EventWriter(const std::filesystem::path& log_dir);
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  // A scalar point on the curve `tag` (TensorBoard groups tags by the text before the first '/').
  void AddScalar(const std::string& tag, double value, int64_t step);
  // An image summary: encoded PNG/JPEG bytes, stored as they are. colorspace: 1 gray, 3 RGB, 4 RGBA.
  void AddEncodedImage(const std::string& tag, std::string_view encoded, int height, int width, int colorspace,
                       int64_t step);
  // The model graph for the Graphs tab (step 0).
  void AddGraph(const tensorboard::GraphDef& graph);
  // Any other Event; wall_time is filled in when it is 0. Throws IoError if the write fails.
  void Write(tensorboard::Event& event);

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::unique_ptr<TFRecordWriter> writer_;
};

// "events.out.tfevents.<10-digit secs>.<hostname>.<pid>.segtune": the name EventWriter uses.
std::string EventFileName(int64_t unix_seconds);

// Seconds since the epoch with sub-second precision, as Event.wall_time holds it.
double WallTimeNow();

}  // namespace segtune
