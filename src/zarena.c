/*
 * zarena.c - zlib's allocator on a fixed arena (contract in zarena.h).
 */
#include "zarena.h"

/* zalloc: the next aligned piece of the arena, or Z_NULL. */
static voidpf zarena_alloc(voidpf opaque, uInt items, uInt size)
{
    zarena *a = opaque;
    size_t want = ((size_t)items * size + 15u) & ~(size_t)15u;
    if (want > a->size - a->used)
        return Z_NULL;
    void *p = a->base + a->used;
    a->used += want;
    if (a->used > a->peak)
        a->peak = a->used;
    return p;
}

/* zfree: nothing is freed piece by piece (zarena_init starts over). */
static void zarena_free(voidpf opaque, voidpf address)
{
    (void)opaque;
    (void)address;
}

void zarena_init(zarena *a, uint8_t *base, size_t size)
{
    a->base = base;
    a->size = size;
    a->used = 0;
}

void zarena_attach(zarena *a, z_stream *z)
{
    z->zalloc = zarena_alloc;
    z->zfree = zarena_free;
    z->opaque = a;
}
