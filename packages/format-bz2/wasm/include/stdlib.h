/*
 * The whole C library that libbzip2 needs when built with BZ_NO_STDIO: its default allocator
 * calls malloc and free, which bzip2-shim.c provides. There is no libc in this WebAssembly module.
 */
#ifndef BENTOPORT_STDLIB_H
#define BENTOPORT_STDLIB_H
typedef __SIZE_TYPE__ size_t;
#define NULL ((void *)0)
void *malloc(size_t size);
void free(void *pointer);
#endif
