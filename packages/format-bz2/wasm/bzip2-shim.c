/*
 * The interface between libbzip2 and format-bz2's JavaScript: one bz_stream per module
 * instance (each worker thread has its own instance), fixed input and output buffers that
 * JavaScript fills and drains through the exported memory, and an allocator with no free list.
 *
 * Why a bump allocator: a compressor or decompressor allocates a handful of blocks once, at
 * init (about 7.6 MB for a -9 compressor, 3.7 MB for a decompressor), and frees them all at
 * its end. Resetting the heap at every init reuses that memory for the next stream, so the
 * module's memory never grows past one stream's worth, and no general allocator is needed.
 */
#include <stdlib.h>
#include "bzlib.h"

#define INPUT_CAPACITY (1 << 20)
#define OUTPUT_CAPACITY (1 << 20)
#define PAGE_SIZE 65536

extern unsigned char __heap_base;

static unsigned char input[INPUT_CAPACITY];
static unsigned char output[OUTPUT_CAPACITY];
static bz_stream stream;
static int stream_open = 0; /* 0: none, 1: compressing, 2: decompressing */
static unsigned long heap_top;

void *malloc(size_t size) {
  unsigned long start = (heap_top + 15) & ~15UL;
  unsigned long end = start + size;
  unsigned long available = __builtin_wasm_memory_size(0) * PAGE_SIZE;
  if (end > available) {
    unsigned long pages = (end - available + PAGE_SIZE - 1) / PAGE_SIZE;
    if (__builtin_wasm_memory_grow(0, pages) == (unsigned long)-1) return NULL;
  }
  heap_top = end;
  return (void *)start;
}

/* Everything is released at once by the next init (see above). */
void free(void *pointer) { (void)pointer; }

/* Called by libbzip2's internal consistency checks (BZ_NO_STDIO): a bug, never bad input. */
void bz_internal_error(int code) {
  (void)code;
  __builtin_trap();
}

static void end_stream(void) {
  if (stream_open == 1) BZ2_bzCompressEnd(&stream);
  if (stream_open == 2) BZ2_bzDecompressEnd(&stream);
  stream_open = 0;
  heap_top = (unsigned long)&__heap_base;
}

__attribute__((export_name("input_buffer"))) unsigned char *input_buffer(void) { return input; }
__attribute__((export_name("output_buffer"))) unsigned char *output_buffer(void) { return output; }
__attribute__((export_name("input_capacity"))) int input_capacity(void) { return INPUT_CAPACITY; }
__attribute__((export_name("output_capacity"))) int output_capacity(void) { return OUTPUT_CAPACITY; }

/* Input bytes that the last step left unread, from input_offset() on. */
__attribute__((export_name("input_left"))) unsigned input_left(void) { return stream.avail_in; }
__attribute__((export_name("input_offset"))) unsigned input_offset(void) {
  return stream.avail_in == 0 ? 0 : (unsigned)((unsigned char *)stream.next_in - input);
}
/* Output bytes that the last step wrote, from the start of output_buffer(). */
__attribute__((export_name("output_length"))) unsigned output_length(void) { return OUTPUT_CAPACITY - stream.avail_out; }

/* A new compressor at block size `level` (1-9), with bzip2's own default work factor. */
__attribute__((export_name("compress_init"))) int compress_init(int level) {
  end_stream();
  stream.bzalloc = 0;
  stream.bzfree = 0;
  stream.opaque = 0;
  int status = BZ2_bzCompressInit(&stream, level, 0, 0);
  if (status == BZ_OK) stream_open = 1;
  stream.avail_in = 0;
  return status;
}

/*
 * A new decompressor. Input the previous one left unread stays (the start of the next stream
 * of a multi-stream file), so no byte is lost between two streams.
 */
__attribute__((export_name("decompress_init"))) int decompress_init(void) {
  char *next_in = stream.next_in;
  unsigned avail_in = stream.avail_in;
  end_stream();
  stream.bzalloc = 0;
  stream.bzfree = 0;
  stream.opaque = 0;
  int status = BZ2_bzDecompressInit(&stream, 0, 0);
  if (status == BZ_OK) stream_open = 2;
  stream.next_in = next_in;
  stream.avail_in = avail_in;
  return status;
}

/* Makes the first `length` bytes of input_buffer() the input, replacing what was left. */
__attribute__((export_name("set_input"))) void set_input(unsigned length) {
  stream.next_in = (char *)input;
  stream.avail_in = length;
}

static void reset_output(void) {
  stream.next_out = (char *)output;
  stream.avail_out = OUTPUT_CAPACITY;
}

/* One BZ2_bzCompress call (action BZ_RUN or BZ_FINISH) into an empty output buffer. */
__attribute__((export_name("compress_step"))) int compress_step(int action) {
  reset_output();
  return BZ2_bzCompress(&stream, action);
}

/* One BZ2_bzDecompress call into an empty output buffer. */
__attribute__((export_name("decompress_step"))) int decompress_step(void) {
  reset_output();
  return BZ2_bzDecompress(&stream);
}

/* Releases the stream's memory for the next one. */
__attribute__((export_name("end"))) void end(void) { end_stream(); }
