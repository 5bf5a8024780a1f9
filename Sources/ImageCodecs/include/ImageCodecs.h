// JPEG and PNG files in memory -> 8-bit pixels, through Debian's libjpeg-turbo and libpng.
//
// Both libraries report a fatal error by calling an error handler that must not return; the
// only way out is longjmp, which Swift cannot set up. These functions hold the setjmp and turn
// every library error into a return code and a message, so a damaged file never exits the
// process or traps. Nothing here holds state between calls; every call is thread-safe.
#ifndef MIXQ_IMAGE_CODECS_H
#define MIXQ_IMAGE_CODECS_H

#include <stddef.h>
#include <stdint.h>

/// A decoded image: `height` rows of `width` pixels of `channels` bytes (1: grey, 3: RGB),
/// row after row, top row first. `pixels` is malloc'd; release it with mixq_image_free.
typedef struct {
    uint8_t *pixels;
    uint32_t width;
    uint32_t height;
    uint32_t channels;
    /// Why decoding failed, NUL-terminated (empty on success).
    char message[256];
} mixq_image;

/// Decodes the JPEG file `data[0..<size]` (baseline or progressive, grey, YCbCr or RGB) into
/// grey or RGB pixels with libjpeg-turbo's defaults (integer slow IDCT, fancy upsampling), as
/// Pillow decodes. Refuses, with a message: images of more than `max_pixels` pixels, CMYK and
/// YCCK files, 12-bit files, truncated files and damaged entropy-coded data (libjpeg's
/// warnings other than extraneous bytes between markers, which lose no pixel).
/// Returns 0 on success, -1 with `image->message` set otherwise.
int mixq_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels, mixq_image *image);

/// Decodes the PNG file `data[0..<size]` (any colour type, bit depth and interlacing) into
/// grey (grey files) or RGB (colour and palette files) 8-bit pixels: 1-, 2- and 4-bit grey
/// scaled to 0...255, palettes expanded, 16-bit samples reduced to their high byte, alpha and
/// transparency dropped (as Pillow's convert("RGB") and convert("L") drop them). Gamma chunks
/// are ignored (as Pillow ignores them). Refuses images of more than `max_pixels` pixels.
/// Returns 0 on success, -1 with `image->message` set otherwise.
int mixq_decode_png(const uint8_t *data, size_t size, uint64_t max_pixels, mixq_image *image);

/// Frees `image->pixels` (safe on a failed or already freed image).
void mixq_image_free(mixq_image *image);

/// Encodes `height` rows of `width` pixels of `channels` (1 or 3) bytes as a baseline JPEG of
/// `quality` (1...100) into a malloc'd buffer `*output` of `*output_size` bytes (free it with
/// free()). For generated test and benchmark folders. Returns 0 on success, -1 otherwise.
int mixq_encode_jpeg(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels, int quality,
                     uint8_t **output, size_t *output_size, char message[256]);

/// Encodes the same pixel layout as an 8-bit grey or RGB PNG into a malloc'd buffer (free it
/// with free()). Returns 0 on success, -1 otherwise.
int mixq_encode_png(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                    uint8_t **output, size_t *output_size, char message[256]);

#endif
