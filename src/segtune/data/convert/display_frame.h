// Normalized coordinates (0..1 of the width and height) between an image's displayed frame (its EXIF
// orientation applied, as Ultralytics YOLO labels are given) and its stored pixels' frame (where COCO,
// TFRecord and segtune work; formats/exif_orientation.h).
#pragma once

namespace segtune {

// Orientations 5 to 8 turn the image a quarter: the displayed width is the stored height.
inline bool SwapsAxes(int orientation) { return orientation >= 5 && orientation <= 8; }

// The stored-frame point of the displayed-frame point (u, v), for EXIF orientation 1..8 (other values
// leave the point as it is). The EXIF numbering says where the stored row 0 and column 0 are shown:
// 6 shows row 0 on the right and column 0 at the top, so u = 1 - y and v = x.
inline void DisplayedToStored(int orientation, double u, double v, double* x, double* y) {
  switch (orientation) {
    case 2: *x = 1 - u, *y = v; return;      // Mirrored left to right.
    case 3: *x = 1 - u, *y = 1 - v; return;  // Turned 180 degrees.
    case 4: *x = u, *y = 1 - v; return;      // Mirrored top to bottom.
    case 5: *x = v, *y = u; return;          // Transposed.
    case 6: *x = v, *y = 1 - u; return;      // Shown turned 90 degrees clockwise.
    case 7: *x = 1 - v, *y = 1 - u; return;  // Transversed.
    case 8: *x = 1 - v, *y = u; return;      // Shown turned 90 degrees counter-clockwise.
    default: *x = u, *y = v; return;
  }
}

// The inverse of DisplayedToStored.
inline void StoredToDisplayed(int orientation, double x, double y, double* u, double* v) {
  switch (orientation) {
    case 2: *u = 1 - x, *v = y; return;
    case 3: *u = 1 - x, *v = 1 - y; return;
    case 4: *u = x, *v = 1 - y; return;
    case 5: *u = y, *v = x; return;
    case 6: *u = 1 - y, *v = x; return;
    case 7: *u = 1 - y, *v = 1 - x; return;
    case 8: *u = y, *v = 1 - x; return;
    default: *u = x, *v = y; return;
  }
}

}  // namespace segtune
