// The segmentation models segtune can build, by torchvision name: one factory per entry of
// config/model_catalog.h (ListSemanticModels, FindSemanticModelInfo). Factories are the only way
// models are built; every model starts with torchvision's random initialisation (use
// load_state.h to load a checkpoint into it).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "segtune/config/model_catalog.h"
#include "segtune/models/semantic_model.h"

namespace segtune {

// Builds `name` with `num_classes` outputs (>= 1) and, if aux_loss, the auxiliary FCN head.
// Throws UsageError for an unknown name, num_classes < 1, or aux_loss on a model without aux head
// (LR-ASPP, as torchvision).
SemanticModel CreateSemanticModel(const std::string& name, int64_t num_classes = 21, bool aux_loss = false);

// The factories, as torchvision's builders (no weights): same structure and names.
SemanticModel LrasppMobileNetV3Large(int64_t num_classes);
SemanticModel DeepLabV3MobileNetV3Large(int64_t num_classes, bool aux_loss);
SemanticModel DeepLabV3ResNet50(int64_t num_classes, bool aux_loss);
SemanticModel DeepLabV3ResNet101(int64_t num_classes, bool aux_loss);
SemanticModel FcnResNet50(int64_t num_classes, bool aux_loss);
SemanticModel FcnResNet101(int64_t num_classes, bool aux_loss);

// Number of scalars in the model's parameters (buffers excluded), as torchvision's num_params.
int64_t CountParameters(const torch::nn::Module& module);

// Writes the `segtune models` table: name, parameters (21 classes, with aux head where the zoo
// checkpoint has one), input normalization, aux head support, zoo files that fit.
void PrintSemanticModelTable(std::ostream& out);

}  // namespace segtune
