#include "segtune/data/semantic_dataset.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "engine/train_fixture.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/example.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/tfrecord.h"
#include "test_util.h"

namespace segtune {
namespace {

using testing::TempDir;

SemanticDatasetOptions EvalOptions(const std::vector<std::filesystem::path>& files) {
  SemanticDatasetOptions options;
  options.files = files;
  options.num_classes = 3;
  options.train = false;
  options.batch_size = 1;
  return options;
}

// The label of record `index` of `file`, decoded straight from the record (the reference).
cv::Mat LabelOfRecord(const std::filesystem::path& file, size_t index) {
  const std::string record = ReadAllRecords(file).at(index);
  const ObjectDetectionExample ex = ParseObjectDetectionExample(ParseExample(record, "ref"), "ref");
  const std::string& png = ex.semantic_mask;
  return cv::imdecode(cv::Mat(1, static_cast<int>(png.size()), CV_8UC1, const_cast<char*>(png.data())),
                      cv::IMREAD_UNCHANGED);
}

std::vector<uint8_t> LabelsOf(const SemanticBatch& batch) { return batch.labels; }

std::vector<uint8_t> Flat(const cv::Mat& m) { return std::vector<uint8_t>(m.datastart, m.dataend); }

void FlipByteAt(const std::filesystem::path& file, uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

TEST(SemanticDataset, BatchesHoldTheRecordsLabelsInFileOrder) {
  TempDir dir;
  testing::WriteShapesRecords(dir / "a.record", 3, 32, 1);
  testing::WriteShapesRecords(dir / "b.record", 2, 32, 2);
  const SemanticDataset data(EvalOptions({dir / "a.record", dir / "b.record"}));
  ASSERT_EQ(data.size(), 5u);
  const std::vector<std::pair<std::string, size_t>> expected{{"a.record", 0}, {"a.record", 1}, {"a.record", 2},
                                                             {"b.record", 0}, {"b.record", 1}};
  for (size_t i = 0; i < expected.size(); ++i) {
    const SemanticBatch batch = data.MakeBatch(static_cast<int64_t>(i));
    const auto file = dir / expected[i].first;
    EXPECT_EQ(batch.sources.at(0), file.string() + ": record " + std::to_string(expected[i].second));
    EXPECT_EQ(LabelsOf(batch), Flat(LabelOfRecord(file, expected[i].second))) << "batch " << i;
  }
}

TEST(SemanticDataset, SampleOneOfNAndMaxExamplesPickRecordsAcrossFiles) {
  TempDir dir;
  testing::WriteShapesRecords(dir / "a.record", 3, 32, 1);
  testing::WriteShapesRecords(dir / "b.record", 3, 32, 2);
  SemanticDatasetOptions options = EvalOptions({dir / "a.record", dir / "b.record"});
  options.sample_1_of_n = 2;  // Records 0, 2 of a and 1 of b (positions 0, 2, 4 of the stream).
  options.max_examples = 3;
  options.batch_size = 3;
  const SemanticDataset data(options);
  ASSERT_EQ(data.size(), 3u);
  const SemanticBatch batch = data.MakeBatch(0);
  EXPECT_EQ(batch.sources, (std::vector<std::string>{(dir / "a.record").string() + ": record 0",
                                                     (dir / "a.record").string() + ": record 2",
                                                     (dir / "b.record").string() + ": record 1"}));
}

// Proves the records are read from the file when needed, not kept: changing a record's bytes after
// the dataset was built is noticed (data CRC) when that record is loaded, and only then.
TEST(SemanticDataset, ReadsRecordsFromTheFileWhenABatchNeedsThem) {
  TempDir dir;
  testing::WriteShapesRecords(dir / "a.record", 3, 32, 1);
  const SemanticDataset data(EvalOptions({dir / "a.record"}));
  TFRecordReader reader(dir / "a.record");
  std::string record;
  ASSERT_TRUE(reader.Next(&record));
  ASSERT_TRUE(reader.Next(&record));
  FlipByteAt(dir / "a.record", reader.record_offset() + kTFRecordHeaderBytes + 10);
  EXPECT_NO_THROW(data.MakeBatch(0));
  EXPECT_NO_THROW(data.MakeBatch(2));
  try {
    data.MakeBatch(1);
    FAIL() << "a changed record must not load";
  } catch (const FormatError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("a.record"), std::string::npos) << message;
    EXPECT_NE(message.find("record 1"), std::string::npos) << message;
    EXPECT_NE(message.find("CRC"), std::string::npos) << message;
  }
}

TEST(SemanticDataset, CorruptRecordFailsWhenTheDatasetIsBuilt) {
  TempDir dir;
  testing::WriteShapesRecords(dir / "a.record", 2, 32, 1);
  FlipByteAt(dir / "a.record", kTFRecordHeaderBytes + 5);
  EXPECT_THROW(SemanticDataset(EvalOptions({dir / "a.record"})), FormatError);
}

// Issue 18 item 9: an empty image/encoded stopped training with OpenCV's assertion text; the error
// now names the file, the record and the key.
TEST(SemanticDataset, UndecodableImageNamesFileRecordAndKey) {
  TempDir dir;
  testing::WriteShapesRecords(dir / "a.record", 2, 32, 1);
  std::vector<std::string> records = ReadAllRecords(dir / "a.record");
  tensorflow::Example broken = ParseExample(records[1], "fixture");
  SetBytes(&broken, "image/encoded", "");
  {
    TFRecordWriter writer(dir / "b.record");
    writer.Write(records[0]);
    writer.Write(broken.SerializeAsString());
    writer.Close();
  }
  const SemanticDataset data(EvalOptions({dir / "b.record"}));
  EXPECT_EQ(data.MakeBatch(0).n, 1);
  try {
    data.MakeBatch(1);
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("b.record: record 1: image/encoded: empty (0 bytes)"), std::string::npos)
        << e.what();
  }
}

TEST(SemanticDataset, CompressedFilesGiveTheSameBatchesAsPlainOnes) {
  TempDir dir;
  testing::WriteShapesRecords(dir / "plain.record", 3, 32, 7);
  const std::string plain = ReadFile(dir / "plain.record");
  const std::string packed = testing::ZlibCompressed(plain);
  WriteFileAtomic(dir / "z.record", packed);
  const SemanticDataset a(EvalOptions({dir / "plain.record"}));
  const SemanticDataset z(EvalOptions({dir / "z.record"}));
  ASSERT_EQ(z.size(), 3u);
  for (int64_t i = 0; i < 3; ++i) {
    const SemanticBatch x = a.MakeBatch(i), y = z.MakeBatch(i);
    EXPECT_EQ(x.labels, y.labels) << "batch " << i;
    EXPECT_EQ(x.images, y.images) << "batch " << i;
  }
}

TEST(BatchLoader, ParallelWorkersReadingOnDemandGiveTheSerialBatches) {
  TempDir dir;
  testing::WriteShapesRecords(dir / "a.record", 6, 32, 3);
  SemanticDatasetOptions options = EvalOptions({dir / "a.record"});
  options.train = true;
  options.batch_size = 2;
  options.augment.horizontal_flip_probability = 0.5f;
  const SemanticDataset data(options);
  BatchLoader loader(data, 0, 9, /*workers=*/3, /*prefetch=*/4);
  SemanticBatch batch;
  for (int64_t i = 0; i < 9; ++i) {
    ASSERT_TRUE(loader.Next(&batch));
    const SemanticBatch serial = data.MakeBatch(i);
    EXPECT_EQ(batch.index, i);
    EXPECT_EQ(batch.sources, serial.sources);
    EXPECT_EQ(batch.images, serial.images);
  }
  EXPECT_FALSE(loader.Next(&batch));
}

// Issue 18 item 10: a mask value the model has no class for became ignore; a batch of only such pixels
// then gave "loss is NaN ... lower the learning rate". Now the record and the value are named.
TEST(SemanticDataset, LabelValueOutsideTheClassesNamesTheRecordAndValue) {
  TempDir dir;
  testing::WriteShapesRecords(dir / "a.record", 2, 32, 1);  // Values 0, 1, 2 and 255 (ignore).
  SemanticDatasetOptions options = EvalOptions({dir / "a.record"});
  options.num_classes = 2;
  const SemanticDataset data(options);
  try {
    data.MakeBatch(1);
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find((dir / "a.record").string() + ": record 1: image/segmentation/class/encoded: label value 2 at "
                                                      "pixel ("),
              std::string::npos) << what;
    EXPECT_NE(what.find("num_classes is 2 (values 0..1) and ignore_label is 255"), std::string::npos) << what;
  }
  options.num_classes = 3;  // The same records fit three classes.
  EXPECT_NO_THROW(SemanticDataset(options).MakeBatch(1));
}

// Issue 18 item 8: image/object/class/label 2^40 was narrowed to int (0, background) before the range check.
TEST(SemanticDataset, InstanceClassLabelBeyondInt32IsAnErrorNotBackground) {
  TempDir dir;
  cv::Mat mask(8, 8, CV_8UC1, cv::Scalar(0));
  mask(cv::Rect(2, 2, 4, 4)).setTo(255);
  ObjectDetectionExample ex;
  ex.encoded = testing::EncodePng(cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)));
  ex.format = "png";
  ex.height = ex.width = 8;
  ex.boxes.push_back({0.25f, 0.25f, 0.75f, 0.75f});
  ex.class_label.push_back(int64_t{1} << 40);
  ex.has_instance_masks = true;
  ex.instance_masks.push_back(testing::EncodePng(mask));
  {
    TFRecordWriter writer(dir / "big.record");
    writer.Write(ToExample(ex).SerializeAsString());
    writer.Close();
  }
  SemanticDatasetOptions options = EvalOptions({dir / "big.record"});
  const SemanticDataset data(options);
  try {
    data.MakeBatch(0);
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "big.record").string() + ": record 0: image/object/class/label[0]: "
                                         "class id 1099511627776 is outside 0..255"),
              std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace segtune
