#ifndef ASSAY_VISION_H
#define ASSAY_VISION_H
// A C interface to the few OpenCV 4 calls Assay uses (Debian's libopencv-dev): decoding images,
// cascade object detection, and drawing text into a PNG for tests and benchmarks. OpenCV is
// C++; nothing of it crosses this header. A function that fails returns NULL or -1 and leaves
// a message for assay_vision_last_error() on the calling thread; no C++ exception escapes.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A decoded image in 8-bit grey.
typedef struct assay_gray_image assay_gray_image;
/// A loaded cascade classifier. Not thread-safe: use one per thread.
typedef struct assay_cascade assay_cascade;

/// One detection in pixels of the decoded image; `level_weight` is the summed stage response
/// of the last stage the window reached (larger is surer), `reject_level` that stage.
typedef struct {
    int left, top, width, height;
    int reject_level;
    double level_weight;
} assay_detection;

/// The OpenCV version, such as "4.6.0".
const char *assay_vision_version(void);
/// OpenCV's own worker threads for one call (1 = each call runs on its caller's thread).
void assay_vision_set_threads(int count);
/// The message of this thread's last failure.
const char *assay_vision_last_error(void);

/// Decodes PNG, JPEG, BMP, TIFF, WebP … bytes to grey; NULL when they are not an image.
assay_gray_image *assay_image_decode(const uint8_t *bytes, size_t count);
int assay_image_width(const assay_gray_image *image);
int assay_image_height(const assay_gray_image *image);
void assay_image_free(assay_gray_image *image);

/// Loads a cascade XML file (Haar or LBP); NULL when it cannot.
assay_cascade *assay_cascade_load(const char *path);
/// The smallest object the cascade finds (its training window), in pixels.
int assay_cascade_window_width(const assay_cascade *cascade);
int assay_cascade_window_height(const assay_cascade *cascade);
void assay_cascade_free(assay_cascade *cascade);

/// Detects objects on a histogram-equalised copy of `image`, with scores. `min_size` and
/// `max_size` are square sides in pixels (0: the cascade's window / no limit). Writes up to
/// `capacity` detections and returns how many there are (possibly more than `capacity`), or
/// -1 on failure.
int assay_cascade_detect(
    assay_cascade *cascade, const assay_gray_image *image, double scale_factor, int min_neighbors, int min_size,
    int max_size, assay_detection *out, int capacity);

/// Draws `text` (lines split at '\n') in black on white with a Hershey font and encodes it as
/// PNG into a buffer the caller frees with assay_vision_free_buffer. Returns 0, or -1.
int assay_render_text_png(const char *text, double font_scale, int thickness, uint8_t **png, size_t *count);
void assay_vision_free_buffer(uint8_t *buffer);

#ifdef __cplusplus
}
#endif
#endif
