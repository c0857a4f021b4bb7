// From a pipeline config's input readers to SemanticDataset / DetectionDataset options.
#pragma once

#include <string>
#include <vector>

#include "pipeline.pb.h"
#include "segtune/data/semantic_dataset.h"
#include "segtune/data/detection_dataset.h"
#include "segtune/models/semantic_model.h"

namespace segtune {

// Dataset options for `reader` (train = augmentation from train_config, endless shuffled stream).
// Expands input_path globs/shards (throws IoError naming a pattern that matches nothing) and reads
// the label map when label_map_path is set.
SemanticDatasetOptions MakeDatasetOptions(const segtune::config::TrainEvalPipelineConfig& config,
                                  const segtune::config::InputReader& reader, const SemanticModelInfo& model,
                                  bool train);

// The reader's TFRecord files: input_path globs/shards expanded. Throws UsageError for TF's
// PATH_TO_BE_CONFIGURED placeholder or no input_path, IoError naming a pattern that matches nothing.
std::vector<std::filesystem::path> ReaderFiles(const segtune::config::InputReader& reader, bool train);

// DetectionDataset options for `reader` of a detection config (model.detection): num_classes, label
// map, masks, random_horizontal_flip probability (train), batch size, sampling. Throws as ReaderFiles.
DetectionDatasetOptions MakeDetectionDatasetOptions(const segtune::config::TrainEvalPipelineConfig& config,
                                                    const segtune::config::InputReader& reader, bool load_masks,
                                                    bool train);

// The augmentation that train_config.data_augmentation_options asks for. Steps segtune does not
// apply to segmentation (normalize_image) are returned in *ignored.
AugmentOptions MakeAugmentOptions(const segtune::config::TrainConfig& train, std::vector<std::string>* ignored);

// Class names by id from the reader's label map (index 0 "background" unless the map names it); empty
// if there is no label map.
std::vector<std::string> ClassNames(const segtune::config::InputReader& reader, int num_classes);

}  // namespace segtune
