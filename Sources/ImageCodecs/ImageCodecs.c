// libjpeg-turbo and libpng behind setjmp: see include/ImageCodecs.h for the contract.
// Library facts used here: libjpeg's error_exit must not return (libjpeg.txt, "Error
// handling"); libpng's error function must longjmp to png_jmpbuf (libpng-manual.txt, "Setup").
#include "ImageCodecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

static void set_message(char *message, const char *text) {
    snprintf(message, 256, "%s", text);
}

void mixq_image_free(mixq_image *image) {
    free(image->pixels);
    image->pixels = NULL;
}

// MARK: JPEG

/// libjpeg's error manager, extended with where to jump and where to write the message.
typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char *message;
} jpeg_failure;

static void jpeg_fail(j_common_ptr info) {
    jpeg_failure *failure = (jpeg_failure *)info->err;
    char text[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, text);
    set_message(failure->message, text);
    longjmp(failure->jump, 1);
}

/// Level -1 is a warning (damaged data libjpeg worked around); higher levels are traces.
/// Every warning fails the decode except bytes between markers, which hold no pixel.
static void jpeg_warn(j_common_ptr info, int level) {
    if (level >= 0 || info->err->msg_code == JWRN_EXTRANEOUS_DATA) return;
    jpeg_fail(info);
}

int mixq_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels, mixq_image *image) {
    memset(image, 0, sizeof *image);
    if (size == 0) {
        set_message(image->message, "the file is empty");
        return -1;
    }
    struct jpeg_decompress_struct info;
    jpeg_failure failure;
    info.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = jpeg_fail;
    failure.manager.emit_message = jpeg_warn;
    failure.message = image->message;
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&info);
        mixq_image_free(image);
        return -1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    switch (info.jpeg_color_space) {
    case JCS_GRAYSCALE: info.out_color_space = JCS_GRAYSCALE; break;
    case JCS_YCbCr:
    case JCS_RGB: info.out_color_space = JCS_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK:
        set_message(image->message, "CMYK JPEG files are not supported; convert the file to RGB");
        jpeg_destroy_decompress(&info);
        return -1;
    default:
        snprintf(image->message, 256, "JPEG files with %d colour components are not supported (grey or RGB)",
                 info.num_components);
        jpeg_destroy_decompress(&info);
        return -1;
    }
    if ((uint64_t)info.image_width * info.image_height > max_pixels) {
        snprintf(image->message, 256, "the image is %ux%u pixels, more than the %llu accepted", info.image_width,
                 info.image_height, (unsigned long long)max_pixels);
        jpeg_destroy_decompress(&info);
        return -1;
    }
    jpeg_start_decompress(&info);
    size_t stride = (size_t)info.output_width * (size_t)info.output_components;
    image->pixels = malloc(stride * info.output_height);
    if (image->pixels == NULL) {
        set_message(image->message, "out of memory for the decoded image");
        jpeg_destroy_decompress(&info);
        return -1;
    }
    image->width = info.output_width;
    image->height = info.output_height;
    image->channels = (uint32_t)info.output_components;
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = image->pixels + (size_t)info.output_scanline * stride;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    return 0;
}

int mixq_encode_jpeg(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels, int quality,
                     uint8_t **output, size_t *output_size, char message[256]) {
    *output = NULL;
    *output_size = 0;
    if ((channels != 1 && channels != 3) || width == 0 || height == 0 || width > 65500 || height > 65500) {
        set_message(message, "JPEG encoding takes 1 or 3 channels and 1...65500 pixels a side");
        return -1;
    }
    struct jpeg_compress_struct info;
    jpeg_failure failure;
    unsigned char *buffer = NULL;
    unsigned long buffer_size = 0;
    info.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = jpeg_fail;
    failure.message = message;
    if (setjmp(failure.jump)) {
        jpeg_destroy_compress(&info);
        free(buffer);
        return -1;
    }
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, &buffer, &buffer_size);
    info.image_width = width;
    info.image_height = height;
    info.input_components = (int)channels;
    info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    size_t stride = (size_t)width * channels;
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)info.next_scanline * stride);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    *output = buffer;
    *output_size = buffer_size;
    return 0;
}

// MARK: PNG

/// The reader's state: the file and how far it was read, the buffers to free on failure.
typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    char *message;
    uint8_t *rows;
    png_bytep *row_pointers;
} png_job;

static void png_fail(png_structp png, png_const_charp text) {
    png_job *job = (png_job *)png_get_error_ptr(png);
    set_message(job->message, text);
    png_longjmp(png, 1);
}

/// Warnings (an unknown ancillary chunk, a damaged colour profile) lose no pixel.
static void png_warn(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void png_read_memory(png_structp png, png_bytep destination, png_size_t length) {
    png_job *job = (png_job *)png_get_io_ptr(png);
    if (length > job->size - job->offset) png_error(png, "the file is truncated");
    memcpy(destination, job->data + job->offset, length);
    job->offset += length;
}

int mixq_decode_png(const uint8_t *data, size_t size, uint64_t max_pixels, mixq_image *image) {
    memset(image, 0, sizeof *image);
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        set_message(image->message, "not a PNG file (no PNG signature)");
        return -1;
    }
    png_job job = {data, size, 0, image->message, NULL, NULL};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, png_fail, png_warn);
    png_infop info = png == NULL ? NULL : png_create_info_struct(png);
    if (info == NULL) {
        set_message(image->message, "out of memory for libpng");
        png_destroy_read_struct(&png, NULL, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(job.rows);
        free(job.row_pointers);
        mixq_image_free(image);
        return -1;
    }
    png_set_read_fn(png, &job, png_read_memory);
    png_read_info(png, info);
    png_uint_32 width = 0, height = 0;
    int depth = 0, colour = 0;
    png_get_IHDR(png, info, &width, &height, &depth, &colour, NULL, NULL, NULL);
    if ((uint64_t)width * height > max_pixels) {
        snprintf(image->message, 256, "the image is %ux%u pixels, more than the %llu accepted", (unsigned)width,
                 (unsigned)height, (unsigned long long)max_pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (colour == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_strip_16(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    uint32_t read_channels = png_get_channels(png, info);
    if (png_get_bit_depth(png, info) != 8 || read_channels < 1 || read_channels > 4 || row_bytes != (size_t)width * read_channels) {
        png_error(png, "unexpected pixel layout after conversion to 8 bits");
    }
    job.rows = malloc(row_bytes * height);
    job.row_pointers = malloc(sizeof(png_bytep) * height);
    if (job.rows == NULL || job.row_pointers == NULL) png_error(png, "out of memory for the decoded image");
    for (png_uint_32 y = 0; y < height; y++) job.row_pointers[y] = job.rows + (size_t)y * row_bytes;
    png_read_image(png, job.row_pointers);

    // Grey and grey+alpha keep one channel, RGB and RGBA three: the alpha channel is dropped.
    uint32_t channels = read_channels <= 2 ? 1 : 3;
    image->pixels = malloc((size_t)width * height * channels);
    if (image->pixels == NULL) png_error(png, "out of memory for the decoded image");
    for (size_t pixel = 0; pixel < (size_t)width * height; pixel++) {
        memcpy(image->pixels + pixel * channels, job.rows + pixel * read_channels, channels);
    }
    image->width = width;
    image->height = height;
    image->channels = channels;
    png_destroy_read_struct(&png, &info, NULL);
    free(job.rows);
    free(job.row_pointers);
    return 0;
}

int mixq_encode_png(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                    uint8_t **output, size_t *output_size, char message[256]) {
    *output = NULL;
    *output_size = 0;
    if ((channels != 1 && channels != 3) || width == 0 || height == 0) {
        set_message(message, "PNG encoding takes 1 or 3 channels and at least one pixel");
        return -1;
    }
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = width;
    image.height = height;
    image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&image, NULL, &size, 0, pixels, 0, NULL)) {
        set_message(message, image.message);
        return -1;
    }
    uint8_t *buffer = malloc(size);
    if (buffer == NULL) {
        set_message(message, "out of memory for the PNG file");
        return -1;
    }
    if (!png_image_write_to_memory(&image, buffer, &size, 0, pixels, 0, NULL)) {
        set_message(message, image.message);
        free(buffer);
        return -1;
    }
    *output = buffer;
    *output_size = size;
    return 0;
}
