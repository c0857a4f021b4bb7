// OpenCV's own pixel limit behind segtune's header checks (docs/security.md).
#pragma once

namespace segtune::cli {

// OpenCV reads OPENCV_IO_MAX_IMAGE_PIXELS once, in a static initialiser of libopencv_imgcodecs that
// runs before main(), so setting it later has no effect. If the environment does not already hold
// the --max-pixels value (default kDefaultMaxImagePixels), this sets it and re-executes the binary
// once (same pid, same arguments); if that exec fails the run continues without the backstop. Only
// for the verbs that decode images: the re-exec costs a second start-up. Exporting the variable
// (OPENCV_IO_MAX_IMAGE_PIXELS=67108864 for the default) avoids the re-exec.
void ApplyOpenCvPixelBackstop(int argc, char** argv);

}  // namespace segtune::cli
