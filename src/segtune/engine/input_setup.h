// From a pipeline config's input readers to SegmentationDataset options.
#pragma once

#include <string>
#include <vector>

#include "pipeline.pb.h"
#include "segtune/data/dataset.h"
#include "segtune/models/segmentation_model.h"

namespace segtune {

// Dataset options for `reader` (train = augmentation from train_config, endless shuffled stream).
// Expands input_path globs/shards (throws IoError naming a pattern that matches nothing) and reads
// the label map when label_map_path is set.
DatasetOptions MakeDatasetOptions(const segtune::config::TrainEvalPipelineConfig& config,
                                  const segtune::config::InputReader& reader, const SegmentationModelInfo& model,
                                  bool train);

// The augmentation that train_config.data_augmentation_options asks for. Steps segtune does not
// apply to segmentation (normalize_image) are returned in *ignored.
AugmentOptions MakeAugmentOptions(const segtune::config::TrainConfig& train, std::vector<std::string>* ignored);

// Class names by id from the reader's label map (index 0 "background" unless the map names it); empty
// if there is no label map.
std::vector<std::string> ClassNames(const segtune::config::InputReader& reader, int num_classes);

}  // namespace segtune
