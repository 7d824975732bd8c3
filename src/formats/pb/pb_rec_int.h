/* pb_rec_int.h - private: the layout of the record scratch (sl_rec), shared
 * by pb_rec.c (the sl_rec_* API and the shredder) and pb_wire.c (the wire
 * decoder, which updates the scratch through these inline helpers instead
 * of the out-of-line API, to keep a scalar field at a few nanoseconds).
 *
 * Layout: a record is a tree of frames, one per present message instance.
 * A frame owns a run of slots in one array: one slot per field of its plan
 * message, then one per real oneof (h = current member + 1). A slot holds
 *   - non-repeated scalar: v, h = 1 when set;
 *   - non-repeated message: h = child frame + 1;
 *   - repeated / map: a linked list of items, h = first + 1, t = last + 1,
 *     v.u = element count; an item holds a value or (messages) a frame.
 * 0 means absent everywhere, so a new frame is a memset. Every array is
 * kept across records (sl_rec_begin only resets the counts) and grows
 * geometrically up to a fixed bound (SL_REC_MAX_*), so a hostile record
 * fails with SL_ERR_LIMIT instead of exhausting memory.
 *
 * Not for use outside src/formats/pb.
 */
#ifndef SL_PB_REC_INT_H
#define SL_PB_REC_INT_H

#include <string.h>

#include "formats/pb/pb_plan.h"

#define SL_REC_MAX_ITEMS   (1u << 24) /* repeated elements per record */
#define SL_REC_MAX_SLOTS   (1u << 26) /* field slots per record */
#define SL_REC_MAX_SCRATCH ((size_t)256 << 20)

typedef struct sl_rec_slot {
    sl_val v;
    uint32_t h, t;
} sl_rec_slot;

typedef struct sl_rec_item {
    sl_val v; /* value, or v.u = frame of a message element */
    uint32_t next;
} sl_rec_item;

typedef struct sl_rec_frame {
    int32_t msg;   /* plan message */
    uint32_t base; /* first slot */
} sl_rec_frame;

/* Enum number -> name for one enum: a dense table when the numbers span a
 * small range, else a sorted array (binary search). */
typedef struct sl_rec_enum {
    int built;
    int32_t min;
    uint32_t span; /* dense: numbers [min, min + span) */
    const char **dname;
    uint32_t *dlen;
    int32_t n; /* sorted: */
    int32_t *snum;
    const char **sname;
    uint32_t *slen;
} sl_rec_enum;

/* Per-field operation codes, precomputed from the plan so the hot loops
 * switch once per field instead of testing type, label, presence, oneof. */
enum {                   /* how a parsed scalar is stored */
       SL_ST_SET = 0,    /* plain non-repeated: last wins */
       SL_ST_PUSH = 1,   /* repeated: append */
       SL_ST_ONEOF = 2,  /* oneof member: clear the sibling, then set */
       SL_ST_CLOSED = 3, /* closed enum: unknown numbers dropped, then as above */
};
enum {                   /* how a field is emitted */
       SL_EM_SCALAR = 0, /* value, or the default when absent */
       SL_EM_SCALAR_OPT, /* value, or null when absent */
       SL_EM_SCALAR_REQ, /* value, or a missing-required error */
       SL_EM_MSG_OPT,    /* message, or nulls when absent */
       SL_EM_MSG_REQ,    /* message, or a missing-required error */
       SL_EM_MSG_ALWAYS, /* message, or an empty message (map value) */
       SL_EM_REP_SCALAR,
       SL_EM_REP_MSG,
       SL_EM_MAP,
       /* SL_EM_SCALAR of the common value kinds, fused so the shredder
        * dispatches once per field instead of on emit then on kind */
       SL_EM_SCALAR_I32,
       SL_EM_SCALAR_I64,
       SL_EM_SCALAR_F64,
       SL_EM_SCALAR_BOOL,
       SL_EM_SCALAR_BYTES,
};
enum { /* column value kind */
       SL_VK_I32 = 0,
       SL_VK_U32, /* uint32 -> INT64 */
       SL_VK_I64,
       SL_VK_F32,
       SL_VK_F64,
       SL_VK_BOOL,
       SL_VK_BYTES,
       SL_VK_ENUM,
};

enum {               /* varint -> sl_val conversion */
       SL_CV_64 = 0, /* int64, uint64: as is */
       SL_CV_I32,    /* int32, enum: truncate, sign-extend */
       SL_CV_U32,    /* uint32: truncate */
       SL_CV_S32,    /* sint32: truncate, zigzag */
       SL_CV_S64,    /* sint64: zigzag */
       SL_CV_BOOL,   /* != 0 */
};

/* The wire decoder's fast-path kind: wire type, conversion and store fused
 * into one code for the common plain last-wins fields, so a field costs one
 * switch; every other field takes SL_FK_OTHER (the wire / conv / store
 * codes above). */
enum {
    SL_FK_OTHER = 0, /* decode by wire, conv and store */
    SL_FK_VARINT64,  /* int64, uint64: varint as is, set */
    SL_FK_VARINT32,  /* int32, enum (open): varint truncated and sign-extended, set */
    SL_FK_FIXED64,   /* double, fixed64, sfixed64: 8 bytes as is, set */
    SL_FK_STRING,    /* string: UTF-8 checked, set */
    SL_FK_BYTES,     /* bytes: set */
    SL_FK_SUB,       /* message or map entry (length-delimited): parse a child */
};

/* The direct shredder's kind (pb_shred.c): the wire decode and the column
 * append of the commonest fields fused into one code; every other field
 * takes SL_SK_OTHER (wire type, then sl_em_one / sl_em_value). */
enum {
    SL_SK_OTHER = 0,
    SL_SK_I64,     /* int64/uint64 varint, implicit presence: sl_col_i64 */
    SL_SK_I32,     /* int32 varint, implicit presence: sl_col_i32 */
    SL_SK_F64,     /* double, implicit presence: sl_col_f64 */
    SL_SK_STR,     /* string, implicit presence: UTF-8 check, sl_col_bytes */
    SL_SK_BYTES,   /* bytes, implicit presence: sl_col_bytes */
    SL_SK_BOOL,    /* bool, implicit presence: sl_col_bool */
    SL_SK_U32,     /* uint32, implicit presence: sl_col_i64 */
    SL_SK_ENUM,    /* open enum, implicit presence: the value's name */
    SL_SK_REP_STR, /* repeated string element */
    SL_SK_MSG,     /* non-repeated message (length-delimited) */
    SL_SK_REP_MSG,
    SL_SK_MAP,
};
/* A tag-table entry of pb_shred.c with this bit is a packed run of the
 * repeated scalar field of the rank in the low bits. */
#define SL_SK_PACKED 0x8000u

typedef struct sl_rec_fop {
    uint8_t wire;  /* expected wire type (unpacked) */
    uint8_t store; /* SL_ST_* */
    uint8_t emit;  /* SL_EM_* */
    uint8_t vk;    /* SL_VK_* */
    uint8_t conv;  /* SL_CV_* (varint fields) */
    uint8_t utf8;  /* string: validate UTF-8 */
    uint8_t sub;   /* message, group or map entry: parse a child */
    uint8_t fast;  /* SL_FK_* */
} sl_rec_fop;

/* The direct shredder's view of a field (pb_shred.c), indexed by the rank
 * of its number in the message (the order serializers write fields in). */
typedef struct sl_rec_sfield {
    uint8_t kind;     /* SL_SK_* */
    uint8_t repeated; /* elements may follow each other */
    int16_t rep;      /* repetition level of its elements */
    int32_t leaf;     /* scalar (or element) column, or -1 */
    int32_t fi;       /* field index in the plan message */
    int32_t key_leaf; /* maps: the entry's key column */
    /* maps whose entries are two plain scalars: the key's and the value's
     * one-byte tags (ktag 0: no such fast path), kinds and value column */
    uint8_t ktag, vtag, kkind, vkind;
    int32_t val_leaf;
} sl_rec_sfield;

/* Per plan message: ops and a table from a whole tag (number << 3 | wire
 * type, for the common case of the expected wire type) to field + 1. */
typedef struct sl_rec_mops {
    sl_rec_fop *fop;
    uint16_t *tag; /* tag -> field index + 1, 0: take the general path */
    uint32_t n_tag;
    /* pb_shred.c (built by sl_shred_init; sf NULL: not shredded directly) */
    sl_rec_sfield *sf; /* by rank */
    int32_t *rank;     /* field index -> rank */
    uint16_t *stag;    /* like tag, to rank + 1 */
} sl_rec_mops;

typedef struct sl_rec_chunk {
    uint8_t *p;
    size_t cap, used;
} sl_rec_chunk;

struct sl_rec {
    const sl_plan *p;
    sl_rec_frame *frames;
    uint32_t n_frames, cap_frames;
    sl_rec_slot *slots;
    uint32_t n_slots, cap_slots;
    sl_rec_item *items;
    uint32_t n_items, cap_items;
    uint32_t *nslots;     /* per plan message: fields + oneofs */
    sl_rec_mops *mops;    /* per plan message */
    sl_rec_enum *enums;   /* per pool enum (only used ones built) */
    sl_rec_chunk *chunks; /* sl_rec_scratch memory */
    int32_t n_chunks, cur_chunk;
    size_t scratch_used;
    uint32_t *m_ent, *m_win, *m_tab; /* map de-duplication scratch */
    uint8_t *m_keep;
    size_t m_cap, m_tab_cap, m_top; /* m_*: a stack, nested maps take the next run */
    int32_t *lv;                    /* repeated columns (max_rep > 0), ascending */
    size_t *lv_n;                   /* their slot counts before the record being emitted */
    int32_t n_lv;
};

#if defined(__GNUC__)
#define SL_PB_INLINE static inline __attribute__((always_inline))
#else
#define SL_PB_INLINE static inline
#endif

/* The direct shredder's tables (pb_shred.c), built by sl_rec_new once the
 * op codes are; a message it cannot take keeps sf NULL. */
sl_err_t sl_shred_init(sl_rec *r) SL_MUST_CHECK;
void sl_shred_free(sl_rec_mops *mo);

/* Slow paths (pb_rec.c). */
sl_err_t sl_rec_grow_items(sl_rec *r) SL_MUST_CHECK;
int32_t sl_rec_frame_new(sl_rec *r, int32_t msg);
void sl_rec_oneof_switch(sl_rec *r, int32_t frame, int32_t oneof, int32_t field);

static inline sl_rec_slot *sl_rec_slot_of(sl_rec *r, int32_t frame, int32_t field)
{
    return &r->slots[r->frames[frame].base + (uint32_t)field];
}

/* Append a repeated element to a slot's list; v.u of the slot counts them. */
static inline sl_err_t SL_MUST_CHECK sl_rec_push(sl_rec *r, int32_t frame, int32_t field, sl_val v)
{
    if (SL_UNLIKELY(r->n_items == r->cap_items)) {
        sl_err_t rc = sl_rec_grow_items(r);
        if (rc) return rc;
    }
    uint32_t idx = r->n_items++;
    r->items[idx].v = v;
    r->items[idx].next = 0;
    sl_rec_slot *s = sl_rec_slot_of(r, frame, field);
    if (s->h)
        r->items[s->t - 1].next = idx + 1;
    else
        s->h = idx + 1;
    s->t = idx + 1;
    s->v.u++;
    return SL_OK;
}

/* Child frame of a non-repeated message field, created on first use (a
 * second occurrence merges). Returns the frame or a negative sl_err_t. */
SL_PB_INLINE int32_t sl_rec_sub_fast(sl_rec *r, int32_t frame, int32_t field, int32_t child_msg,
                                     int32_t oneof)
{
    sl_rec_slot *s = sl_rec_slot_of(r, frame, field);
    if (s->h) return (int32_t)s->h - 1;
    if (oneof >= 0) sl_rec_oneof_switch(r, frame, oneof, field);
    int32_t c = sl_rec_frame_new(r, child_msg);
    if (c >= 0) sl_rec_slot_of(r, frame, field)->h = (uint32_t)c + 1; /* slots may move */
    return c;
}

/* A new element frame of a repeated message / map field. */
SL_PB_INLINE int32_t sl_rec_add_sub_fast(sl_rec *r, int32_t frame, int32_t field, int32_t child_msg)
{
    int32_t c = sl_rec_frame_new(r, child_msg);
    if (c < 0) return c;
    sl_val v;
    v.u = (uint64_t)c;
    sl_err_t rc = sl_rec_push(r, frame, field, v);
    return rc ? rc : c;
}

/* The number -> name table of enum e (built by sl_rec_new for every enum
 * the plan uses). */
static inline const sl_rec_enum *sl_rec_enum_of(const sl_rec *r, const sl_pb_enum *e)
{
    return &r->enums[e - r->p->pool->enums];
}

/* ---- maps: protobuf's de-duplication, shared by the shredder (pb_emit.c)
 * and the re-encoder (pb_encode.c) ----
 *
 * One entry per distinct key, at the key's first position, holding the
 * value of its last occurrence (a later entry replaces an earlier one;
 * messages are not merged). Up to 16 entries: a quadratic scan in the
 * arrays inside sl_rec_map (on the caller's stack); above: an
 * open-addressing hash over the record's map scratch, which is a stack
 * (m_top): a map inside a map value takes the next run. Because a nested
 * map may grow (move) the scratch, read the arrays through
 * sl_rec_map_ent/win/keep at each use, and call sl_rec_map_end when done. */
typedef struct sl_rec_map {
    size_t n, base;
    int heap;
    uint32_t ent16[16], win16[16]; /* entry frames: first occurrence, last value */
    uint8_t keep16[16];            /* 0: a later duplicate of an earlier key */
} sl_rec_map;

/* De-duplicate the entries of map slot s, whose entry message is em.
 * SL_ERR_NOMEM when the scratch cannot grow (nothing to undo then). */
sl_err_t sl_rec_map_begin(sl_rec *r, const sl_plan_msg *em, const sl_rec_slot *s,
                          sl_rec_map *m) SL_MUST_CHECK;
static inline const uint32_t *sl_rec_map_ent(const sl_rec *r, const sl_rec_map *m)
{
    return m->heap ? r->m_ent + m->base : m->ent16;
}
static inline const uint32_t *sl_rec_map_win(const sl_rec *r, const sl_rec_map *m)
{
    return m->heap ? r->m_win + m->base : m->win16;
}
static inline const uint8_t *sl_rec_map_keep(const sl_rec *r, const sl_rec_map *m)
{
    return m->heap ? r->m_keep + m->base : m->keep16;
}
static inline void sl_rec_map_end(sl_rec *r, const sl_rec_map *m)
{
    if (m->heap) r->m_top = m->base;
}

/* 1 and the value's name if num is declared in the enum, else 0. */
static inline int sl_rec_enum_name(const sl_rec_enum *t, int32_t num, const char **name,
                                   uint32_t *len)
{
    if (t->dname) {
        uint32_t k = (uint32_t)num - (uint32_t)t->min;
        if (k < t->span && t->dname[k]) {
            *name = t->dname[k];
            *len = t->dlen[k];
            return 1;
        }
        return 0;
    }
    int32_t lo = 0, hi = t->n - 1;
    while (lo <= hi) {
        int32_t mid = (lo + hi) / 2;
        if (t->snum[mid] == num) {
            *name = t->sname[mid];
            *len = t->slen[mid];
            return 1;
        }
        if (t->snum[mid] < num)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 0;
}

/* ---- wire primitives, shared by the decoders (pb_wire.c, pb_shred.c) ---- */

/* Varint, unrolled: one bounds check when 10 bytes are available (the
 * common case inside a record), else the careful loop of buf.h. The 10th
 * byte keeps only its low bit, as protobuf's decoder does. Returns 0, or
 * -1 (truncated or longer than 10 bytes) with *pp unchanged. */
#define SL_VB(i)                                                                                   \
    b = p[i];                                                                                      \
    r |= (b & 0x7f) << (7 * (i));                                                                  \
    if (b < 0x80) {                                                                                \
        *pp = p + (i) + 1;                                                                         \
        *v = r;                                                                                    \
        return 0;                                                                                  \
    }

SL_PB_INLINE int sl_pb_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    const uint8_t *p = *pp;
    if (SL_LIKELY(p < end && *p < 0x80)) {
        *v = *p;
        *pp = p + 1;
        return 0;
    }
    if (SL_UNLIKELY(end - p < 10)) return sl_varint_get(pp, end, v);
    uint64_t b, r = 0;
    SL_VB(0)
    SL_VB(1) SL_VB(2) SL_VB(3) SL_VB(4) SL_VB(5) SL_VB(6) SL_VB(7) SL_VB(8) SL_VB(9) return -1;
}
#undef SL_VB

/* A tag (p < end): 1 or 2 bytes inline, longer ones by sl_varint_get.
 * Returns the position after it, or NULL (truncated, over 10 bytes). */
static inline const uint8_t *sl_pb_tag_slow(const uint8_t *p, const uint8_t *end, uint64_t *tag)
{
    return sl_varint_get(&p, end, tag) ? NULL : p;
}
SL_PB_INLINE const uint8_t *sl_pb_tag(const uint8_t *p, const uint8_t *end, uint64_t *tag)
{
    if (SL_LIKELY(p[0] < 0x80)) {
        *tag = p[0];
        return p + 1;
    }
    if (SL_LIKELY(end - p > 1 && p[1] < 0x80)) {
        *tag = (uint64_t)(p[0] & 0x7f) | ((uint64_t)p[1] << 7);
        return p + 2;
    }
    return sl_pb_tag_slow(p, end, tag);
}

/* A varint as the field's sl_val, by the op's conversion code (SL_CV_*). */
static inline sl_val sl_pb_from_varint(uint8_t conv, uint64_t x)
{
    sl_val v;
    switch (conv) {
    case SL_CV_I32:
        v.i = (int32_t)(uint32_t)x;
        break;
    case SL_CV_U32:
        v.u = (uint32_t)x;
        break;
    case SL_CV_S32: {
        uint32_t z = (uint32_t)x;
        v.i = (int32_t)((z >> 1) ^ (0u - (z & 1)));
        break;
    }
    case SL_CV_S64:
        v.i = sl_zigzag_dec64(x);
        break;
    case SL_CV_BOOL:
        v.u = x != 0;
        break;
    default:
        v.u = x;
        break;
    }
    return v;
}

/* 4 wire bytes as the sl_val of a float, sfixed32 or fixed32 field. */
static inline sl_val sl_pb_from_fixed32(uint8_t type, const uint8_t *p)
{
    uint32_t x;
    sl_val v;
    memset(&v, 0, sizeof v);
    memcpy(&x, p, 4);
    if (type == SL_PB_FLOAT) {
        memcpy(&v.f, &x, 4);
    } else if (type == SL_PB_SFIXED32) {
        v.i = (int32_t)x;
    } else {
        v.u = x;
    }
    return v;
}

#endif
