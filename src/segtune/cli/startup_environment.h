// Settings that libraries read from the environment before main() runs, applied by re-executing the
// binary once (same pid, same arguments) with them set.
#pragma once

namespace segtune::cli {

// Three settings, each only when the environment does not already hold one:
//   - OpenCV's own pixel limit behind segtune's header checks (docs/security.md), for the verbs that
//     decode images: OPENCV_IO_MAX_IMAGE_PIXELS = the --max-pixels value (default
//     kDefaultMaxImagePixels). libopencv_imgcodecs reads it in a static initialiser.
//   - Transparent huge pages for malloc (GLIBC_TUNABLES=glibc.malloc.hugetlb=1), for the verbs whose
//     memory grows with the dataset, when the kernel gives huge pages only to memory that asks for
//     them (/sys/kernel/mm/transparent_hugepage/enabled is "madvise"). Filling fresh 4 KiB pages one
//     page fault at a time was a third of a CVAT-to-COCO conversion's time (docs/convert.md).
//   - For the dataset verbs, malloc keeps large blocks in its heap and freed memory for reuse, and
//     grows its heaps 16 MB at a time (glibc.malloc.mmap_threshold=33554432,
//     trim_threshold=268435456, top_pad=16777216): blocks above glibc's adaptive threshold were
//     mmap'ed, zeroed and unmapped again and again, and heaps grew a few pages per system call
//     (together 35% of a CVAT-to-COCO conversion, docs/convert.md).
// If one is missing, this sets it and re-executes; if the exec fails the run continues without
// them. The re-exec costs a second start of the executable (not of the plugins). Exporting the
// variables (OPENCV_IO_MAX_IMAGE_PIXELS=67108864, GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (or =0 to
// keep glibc's default):glibc.malloc.mmap_threshold=N) avoids it.
void ApplyStartupEnvironment(int argc, char** argv);

}  // namespace segtune::cli
