// Precompiled once (see CMakeLists.txt) and reused by every target that uses libtorch.
#pragma once
#include <torch/torch.h>
