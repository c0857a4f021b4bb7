// `segtune convert`: any readable annotation format to any writable one, through LabeledDataset.
#pragma once

#include <filesystem>
#include <string>

#include "segtune/data/convert/annotation_format.h"

namespace segtune {

struct ConvertOptions {
  std::string from = "auto";  // A format name (annotation_format.h) or "auto".
  std::string to;             // A format name.
  std::filesystem::path input;
  std::filesystem::path output;
  std::filesystem::path images_dir;  // Where the input's images are (and where embedded ones go).
  std::filesystem::path reference;   // ReadOptions::reference (prediction inputs).
  bool skip_missing = false;  // Drop images whose files are missing (and their annotations).
  bool check_images = true;   // False for inputs whose images are URLs or not available yet.
  WriteOptions write;
};

// Reads options.input, checks every referenced image file exists (listing all missing ones), writes
// embedded images into images_dir, then writes options.output. Throws FormatError for malformed
// input, UsageError for unknown formats, an output that may not be replaced, or missing images
// without skip_missing (the message lists them). Warnings are in the report, not printed.
// With `converted`, the dataset as written is moved there instead of being freed (a process about to
// exit can leave it to the exit: freeing 20,000 annotations one by one is 5-12 ms).
ConversionReport ConvertAnnotations(const ConvertOptions& options, LabeledDataset* converted = nullptr);

// The part of ConvertAnnotations after reading, for callers that already hold a dataset (infer's
// --export): checks images per options, writes embedded images, writes with format `to`.
void WriteAnnotations(LabeledDataset dataset, const ConvertOptions& options, ConversionReport* report);

// Reads `input` in format `from` ("auto" detects it). For `--from` on other verbs (coco2tfrecord).
LabeledDataset ReadAnnotations(const std::filesystem::path& input, const std::string& from,
                               const ReadOptions& options, ConversionReport* report);

}  // namespace segtune
