/* pb_desc.c - decode a FileDescriptorSet into the resolved schema model of
 * pb_desc.h, with our own small reader of descriptor.proto's wire format.
 *
 * What is read: FileDescriptorProto {name, package, message_type, enum_type,
 * syntax}; DescriptorProto {name, field, nested_type, enum_type, oneof_decl,
 * options.map_entry}; FieldDescriptorProto {name, number, label, type,
 * type_name, default_value, oneof_index, json_name, proto3_optional,
 * options.packed}; EnumDescriptorProto {name, value {name, number}}.
 * Everything else (services, extensions, source info, other options) is
 * skipped as unknown fields: extensions are not decoded by sluice yet
 * (their data is skipped as unknown fields by the record decoder, as
 * protobuf does for an extension it does not know).
 *
 * Invariants after a successful sl_pb_pool_add_set:
 *   - every MESSAGE/GROUP field has msg >= 0 and every ENUM field enm >= 0,
 *     indexes into the pool; names are full names without the leading dot;
 *   - has_presence, packed and oneof_index follow pb_desc.h (synthetic
 *     proto3-optional oneofs are not counted, real oneofs are renumbered
 *     densely from 0 in declaration order);
 *   - json_name is filled (protobuf's lowerCamelCase rule when absent).
 *
 * Two passes over each message and file: the first reads the name (and
 * package/syntax), the second the contents, so the wire order of fields
 * (syntax comes after message_type) never matters.
 *
 * Costs and bounds: linear in the input plus O(n log n) for the name index
 * used to resolve type names. Every count is bounded by the input size
 * (each item costs at least two input bytes) and nesting of messages by
 * SL_PB_DESC_MAX_DEPTH, so hostile input cannot make us allocate more than
 * a small multiple of its size or recurse without bound. On any error the
 * pool is left as it was before the call.
 *
 * Not done (on purpose): editions (rejected with SL_ERR_UNSUPPORTED, since
 * presence and enum closedness would come from features we do not resolve
 * yet), extensions, and the descriptor's own validation beyond what the
 * decoder relies on (protoc has validated the set it wrote).
 */
#include "formats/pb/pb_desc.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

#define SL_PB_DESC_MAX_DEPTH 100

/* ---- a bounded reader of protobuf wire format (descriptors only) ---- */

typedef struct dr {
    const uint8_t *p, *end;
} dr;

typedef struct dfield {
    uint32_t num;
    int wt;
    uint64_t v;       /* varint / fixed value */
    const uint8_t *s; /* length-delimited payload */
    size_t n;
} dfield;

/* Skip a group until its matching end tag; depth-bounded. */
static int dr_skip_group(dr *r, uint32_t num, int depth)
{
    if (depth > SL_PB_DESC_MAX_DEPTH) return -1;
    for (;;) {
        uint64_t tag, v;
        if (sl_varint_get(&r->p, r->end, &tag)) return -1;
        uint32_t n = (uint32_t)(tag >> 3);
        switch (tag & 7) {
        case 0:
            if (sl_varint_get(&r->p, r->end, &v)) return -1;
            break;
        case 1:
            if (r->end - r->p < 8) return -1;
            r->p += 8;
            break;
        case 2:
            if (sl_varint_get(&r->p, r->end, &v) || v > (uint64_t)(r->end - r->p)) return -1;
            r->p += v;
            break;
        case 3:
            if (dr_skip_group(r, n, depth + 1)) return -1;
            break;
        case 4:
            return n == num ? 0 : -1;
        case 5:
            if (r->end - r->p < 4) return -1;
            r->p += 4;
            break;
        default:
            return -1;
        }
    }
}

/* Next field: 1 = got one, 0 = end of input, -1 = malformed. Groups are
 * skipped and reported with wt 3 and no payload. */
static int dr_next(dr *r, dfield *f)
{
    if (r->p >= r->end) return 0;
    uint64_t tag;
    if (sl_varint_get(&r->p, r->end, &tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return -1;
    f->num = (uint32_t)(tag >> 3);
    f->wt = (int)(tag & 7);
    f->v = 0;
    f->s = NULL;
    f->n = 0;
    switch (f->wt) {
    case 0:
        return sl_varint_get(&r->p, r->end, &f->v) ? -1 : 1;
    case 1:
        if (r->end - r->p < 8) return -1;
        memcpy(&f->v, r->p, 8);
        r->p += 8;
        return 1;
    case 2:
        if (sl_varint_get(&r->p, r->end, &f->v) || f->v > (uint64_t)(r->end - r->p)) return -1;
        f->s = r->p;
        f->n = (size_t)f->v;
        r->p += f->n;
        return 1;
    case 3:
        return dr_skip_group(r, f->num, 1) ? -1 : 1;
    case 5: {
        uint32_t x;
        if (r->end - r->p < 4) return -1;
        memcpy(&x, r->p, 4);
        f->v = x;
        r->p += 4;
        return 1;
    }
    default:
        return -1;
    }
}

/* ---- the parse context: new messages/enums, pending type names ---- */

typedef struct pending_ref {
    int32_t msg, field; /* local (new) message index, field index */
    char *type_name;
} pending_ref;

typedef struct dctx {
    sl_pb_msg *msgs;
    int32_t n_msgs, cap_msgs;
    sl_pb_enum *enums;
    int32_t n_enums, cap_enums;
    pending_ref *refs;
    int32_t n_refs, cap_refs;
    const uint8_t *base; /* start of the set, for byte offsets */
    const char *file;    /* current file name, for messages */
    int proto3;
    sl_error *err;
} dctx;

static sl_err_t grow(void **arr, int32_t *cap, int32_t need, size_t elem)
{
    if (need <= *cap) return SL_OK;
    if (need > (1 << 28)) return SL_ERR_LIMIT;
    int32_t nc = *cap ? *cap * 2 : 8;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p) return SL_ERR_NOMEM;
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
    *arr = p;
    *cap = nc;
    return SL_OK;
}

static char *dup_n(const uint8_t *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    if (n) memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* "a.b" + "." + "C" (prefix may be empty). */
static char *join_name(const char *prefix, const uint8_t *name, size_t n)
{
    size_t pl = strlen(prefix);
    char *d = malloc(pl + 1 + n + 1);
    if (!d) return NULL;
    memcpy(d, prefix, pl);
    size_t k = pl;
    if (pl) d[k++] = '.';
    memcpy(d + k, name, n);
    d[k + n] = '\0';
    return d;
}

static sl_err_t bad(dctx *c, const uint8_t *at, const char *what, const char *where)
{
    return sl_error_set(c->err, SL_ERR_CORRUPT,
                        "descriptor set, file %s, byte %zu: %s%s%s; the schema file is damaged "
                        "or not a FileDescriptorSet (make one with protoc --include_imports "
                        "--descriptor_set_out)",
                        c->file ? c->file : "?", (size_t)(at - c->base), what, where ? " in " : "",
                        where ? where : "");
}

static sl_err_t nomem(dctx *c)
{
    return sl_error_set(c->err, SL_ERR_NOMEM, "descriptor set: out of memory");
}

/* protobuf's ToJsonName: drop '_' and upper-case the letter after it. */
static char *json_name_of(const char *name)
{
    size_t n = strlen(name);
    char *d = malloc(n + 1), *q = d;
    if (!d) return NULL;
    int up = 0;
    for (const char *s = name; *s; s++) {
        if (*s == '_') {
            up = 1;
        } else if (up) {
            *q++ = (*s >= 'a' && *s <= 'z') ? (char)(*s - 'a' + 'A') : *s;
            up = 0;
        } else {
            *q++ = *s;
        }
    }
    *q = '\0';
    return d;
}

static void free_field(sl_pb_field *f)
{
    free(f->name);
    free(f->json_name);
    free(f->default_value);
}

static void free_msg(sl_pb_msg *m)
{
    for (int32_t i = 0; i < m->n_fields; i++)
        free_field(&m->fields[i]);
    free(m->fields);
    for (int32_t i = 0; i < m->n_oneofs; i++)
        free(m->oneof_names[i]);
    free(m->oneof_names);
    free(m->full_name);
}

static void free_enum(sl_pb_enum *e)
{
    for (int32_t i = 0; i < e->n_values; i++)
        free(e->values[i].name);
    free(e->values);
    free(e->full_name);
}

static void dctx_free(dctx *c)
{
    for (int32_t i = 0; i < c->n_msgs; i++)
        free_msg(&c->msgs[i]);
    for (int32_t i = 0; i < c->n_enums; i++)
        free_enum(&c->enums[i]);
    for (int32_t i = 0; i < c->n_refs; i++)
        free(c->refs[i].type_name);
    free(c->msgs);
    free(c->enums);
    free(c->refs);
}

/* ---- enums ---- */

static sl_err_t parse_enum(dctx *c, const char *prefix, const uint8_t *s, size_t n)
{
    dr r = {s, s + n};
    dfield f;
    int k;
    const uint8_t *name = NULL;
    size_t name_n = 0;
    int32_t cap = 0;
    while ((k = dr_next(&r, &f)) == 1)
        if (f.num == 1 && f.wt == 2) name = f.s, name_n = f.n;
    if (k < 0 || !name)
        return bad(c, r.p, k < 0 ? "malformed enum" : "enum without a name", prefix);
    if (grow((void **)&c->enums, &c->cap_enums, c->n_enums + 1, sizeof *c->enums)) return nomem(c);
    sl_pb_enum *e = &c->enums[c->n_enums++];
    memset(e, 0, sizeof *e);
    e->closed = (uint8_t)!c->proto3;
    if (!(e->full_name = join_name(prefix, name, name_n))) return nomem(c);
    r.p = s;
    while ((k = dr_next(&r, &f)) == 1) {
        if (f.num != 2 || f.wt != 2) continue;
        /* EnumValueDescriptorProto: name = 1, number = 2 */
        dr v = {f.s, f.s + f.n};
        dfield vf;
        int vk;
        const uint8_t *vn = NULL;
        size_t vnl = 0;
        int32_t num = 0;
        while ((vk = dr_next(&v, &vf)) == 1) {
            if (vf.num == 1 && vf.wt == 2) vn = vf.s, vnl = vf.n;
            if (vf.num == 2 && vf.wt == 0) num = (int32_t)(uint32_t)vf.v;
        }
        if (vk < 0 || !vn)
            return bad(c, v.p, vk < 0 ? "malformed enum value" : "enum value without a name",
                       e->full_name);
        if (grow((void **)&e->values, &cap, e->n_values + 1, sizeof *e->values)) return nomem(c);
        if (!(e->values[e->n_values].name = dup_n(vn, vnl))) return nomem(c);
        e->values[e->n_values++].number = num;
    }
    return SL_OK;
}

/* ---- fields ---- */

typedef struct fparse {
    sl_pb_field f;
    char *type_name;
    int proto3_optional;
    int has_oneof;
    int has_packed, packed;
} fparse;

static sl_err_t parse_field_options(fparse *fp, const uint8_t *s, size_t n)
{
    dr r = {s, s + n};
    dfield f;
    int k;
    while ((k = dr_next(&r, &f)) == 1)
        if (f.num == 2 && f.wt == 0) fp->has_packed = 1, fp->packed = f.v != 0;
    return k < 0 ? SL_ERR_CORRUPT : SL_OK;
}

static sl_err_t parse_field(dctx *c, const char *msg_name, fparse *fp, const uint8_t *s, size_t n)
{
    dr r = {s, s + n};
    dfield f;
    int k;
    char **str;
    memset(fp, 0, sizeof *fp);
    fp->f.oneof_index = -1;
    fp->f.msg = fp->f.enm = -1;
    fp->f.label = SL_PB_OPTIONAL;
    while ((k = dr_next(&r, &f)) == 1) {
        str = NULL;
        if (f.wt == 2) {
            switch (f.num) {
            case 1:
                str = &fp->f.name;
                break;
            case 6:
                str = &fp->type_name;
                break;
            case 7:
                str = &fp->f.default_value;
                break;
            case 10:
                str = &fp->f.json_name;
                break;
            case 8:
                if (parse_field_options(fp, f.s, f.n))
                    return bad(c, f.s, "malformed field options", msg_name);
                break;
            default:
                break;
            }
            if (str) {
                free(*str);
                if (!(*str = dup_n(f.s, f.n))) return nomem(c);
            }
        } else if (f.wt == 0) {
            switch (f.num) {
            case 3:
                fp->f.number = (int32_t)(uint32_t)f.v;
                break;
            case 4:
                fp->f.label = (uint8_t)(f.v > 255 ? 0 : f.v);
                break;
            case 5:
                fp->f.type = (uint8_t)(f.v > 255 ? 0 : f.v);
                break;
            case 9:
                fp->f.oneof_index = (int32_t)(uint32_t)f.v;
                fp->has_oneof = 1;
                break;
            case 17:
                fp->proto3_optional = f.v != 0;
                break;
            default:
                break;
            }
        }
    }
    if (k < 0) return bad(c, r.p, "malformed field", msg_name);
    if (!fp->f.name) return bad(c, s, "field without a name", msg_name);
    if (fp->f.number < 1 || fp->f.number > 0x1fffffff)
        return sl_error_set(c->err, SL_ERR_CORRUPT,
                            "descriptor set, file %s: %s.%s: field number %d out of range "
                            "1..536870911",
                            c->file, msg_name, fp->f.name, fp->f.number);
    if (fp->f.label < SL_PB_OPTIONAL || fp->f.label > SL_PB_REPEATED || fp->f.type > SL_PB_SINT64 ||
        (fp->f.type == 0 && !fp->type_name))
        return sl_error_set(c->err, SL_ERR_CORRUPT,
                            "descriptor set, file %s: %s.%s: invalid label %d or type %d", c->file,
                            msg_name, fp->f.name, fp->f.label, fp->f.type);
    if (!fp->f.json_name && !(fp->f.json_name = json_name_of(fp->f.name))) return nomem(c);
    return SL_OK;
}

static int packable(uint8_t t)
{
    return t != SL_PB_STRING && t != SL_PB_BYTES && t != SL_PB_MESSAGE && t != SL_PB_GROUP &&
           t != 0;
}

/* ---- messages ---- */

static sl_err_t parse_message(dctx *c, const char *prefix, const uint8_t *s, size_t n, int depth);

/* Second pass over a DescriptorProto: fields, oneofs, nested types. */
static sl_err_t message_body(dctx *c, int32_t mi, const uint8_t *s, size_t n, int depth)
{
    dr r = {s, s + n};
    dfield f;
    int k;
    sl_err_t rc = SL_OK;
    fparse *fps = NULL;
    int32_t nf = 0, capf = 0, n_decl = 0;
    uint8_t *synthetic = NULL;
    int32_t *real = NULL;
    char **names = NULL;
    int32_t cap_names = 0;
    char *full = c->msgs[mi].full_name; /* stable: strings do not move */

    while ((k = dr_next(&r, &f)) == 1) {
        if (f.wt != 2) continue;
        if (f.num == 2) {
            if ((rc = grow((void **)&fps, &capf, nf + 1, sizeof *fps))) goto oom;
            if ((rc = parse_field(c, full, &fps[nf], f.s, f.n))) {
                free_field(&fps[nf].f);
                free(fps[nf].type_name);
                goto fail;
            }
            nf++;
        } else if (f.num == 3 || f.num == 4) {
            rc = f.num == 3 ? parse_message(c, full, f.s, f.n, depth + 1)
                            : parse_enum(c, full, f.s, f.n);
            if (rc) goto fail;
        } else if (f.num == 8) { /* OneofDescriptorProto: name = 1 */
            dr o = {f.s, f.s + f.n};
            dfield of;
            int ok;
            const uint8_t *on = (const uint8_t *)"";
            size_t onl = 0;
            while ((ok = dr_next(&o, &of)) == 1)
                if (of.num == 1 && of.wt == 2) on = of.s, onl = of.n;
            if (ok < 0) {
                rc = bad(c, o.p, "malformed oneof", full);
                goto fail;
            }
            if ((rc = grow((void **)&names, &cap_names, n_decl + 1, sizeof *names))) goto oom;
            if (!(names[n_decl] = dup_n(on, onl))) goto oom;
            n_decl++;
        }
    }
    if (k < 0) {
        rc = bad(c, r.p, "malformed message", full);
        goto fail;
    }
    /* Real oneofs: those not used by a proto3 optional field. */
    synthetic = calloc((size_t)n_decl + 1, 1);
    real = malloc(((size_t)n_decl + 1) * sizeof *real);
    if (!synthetic || !real) goto oom;
    for (int32_t i = 0; i < nf; i++) {
        if (!fps[i].has_oneof) continue;
        if (fps[i].f.oneof_index < 0 || fps[i].f.oneof_index >= n_decl) {
            rc = sl_error_set(c->err, SL_ERR_CORRUPT,
                              "descriptor set, file %s: %s.%s: oneof_index %d but the message "
                              "declares %d oneofs",
                              c->file, full, fps[i].f.name, fps[i].f.oneof_index, n_decl);
            goto fail;
        }
        if (fps[i].proto3_optional) synthetic[fps[i].f.oneof_index] = 1;
    }
    int32_t n_real = 0;
    for (int32_t i = 0; i < n_decl; i++) {
        real[i] = synthetic[i] ? -1 : n_real;
        if (!synthetic[i])
            names[n_real++] = names[i];
        else
            free(names[i]);
    }
    sl_pb_msg *m = &c->msgs[mi]; /* re-take: nested parses may have moved msgs */
    m->oneof_names = names;
    m->n_oneofs = n_real;
    names = NULL;
    n_decl = 0;
    m->fields = calloc((size_t)(nf ? nf : 1), sizeof *m->fields);
    if (!m->fields) goto oom;
    for (int32_t i = 0; i < nf; i++) {
        fparse *fp = &fps[i];
        sl_pb_field *d = &m->fields[i];
        *d = fp->f;
        memset(&fp->f, 0, sizeof fp->f); /* ownership moved */
        m->n_fields = i + 1;
        d->oneof_index = fp->has_oneof && !fp->proto3_optional ? real[d->oneof_index] : -1;
        if (d->label == SL_PB_REPEATED)
            d->has_presence = 0;
        else if (d->type == SL_PB_MESSAGE || d->type == SL_PB_GROUP || !c->proto3)
            d->has_presence = 1;
        else
            d->has_presence = fp->proto3_optional || d->oneof_index >= 0;
        d->packed = (uint8_t)(d->label == SL_PB_REPEATED && packable(d->type) &&
                              (fp->has_packed ? fp->packed : c->proto3));
        if (fp->type_name) {
            if ((rc = grow((void **)&c->refs, &c->cap_refs, c->n_refs + 1, sizeof *c->refs)))
                goto oom;
            c->refs[c->n_refs++] = (pending_ref){mi, i, fp->type_name};
            fp->type_name = NULL;
        }
    }
    rc = SL_OK;
    goto done;
oom:
    rc = nomem(c);
fail:
done:
    for (int32_t i = 0; i < nf; i++) {
        free_field(&fps[i].f);
        free(fps[i].type_name);
    }
    for (int32_t i = 0; i < n_decl; i++)
        free(names[i]);
    free(names);
    free(fps);
    free(synthetic);
    free(real);
    return rc;
}

static sl_err_t parse_message(dctx *c, const char *prefix, const uint8_t *s, size_t n, int depth)
{
    dr r = {s, s + n};
    dfield f;
    int k, map_entry = 0;
    const uint8_t *name = NULL;
    size_t name_n = 0;
    if (depth > SL_PB_DESC_MAX_DEPTH)
        return bad(c, s, "messages nested deeper than 100 levels", prefix);
    while ((k = dr_next(&r, &f)) == 1) {
        if (f.num == 1 && f.wt == 2) name = f.s, name_n = f.n;
        if (f.num == 7 && f.wt == 2) { /* MessageOptions: map_entry = 7 */
            dr o = {f.s, f.s + f.n};
            dfield of;
            int ok;
            while ((ok = dr_next(&o, &of)) == 1)
                if (of.num == 7 && of.wt == 0) map_entry = of.v != 0;
            if (ok < 0) return bad(c, o.p, "malformed message options", prefix);
        }
    }
    if (k < 0 || !name)
        return bad(c, r.p, k < 0 ? "malformed message" : "message without a name", prefix);
    if (grow((void **)&c->msgs, &c->cap_msgs, c->n_msgs + 1, sizeof *c->msgs)) return nomem(c);
    int32_t mi = c->n_msgs++;
    sl_pb_msg *m = &c->msgs[mi];
    memset(m, 0, sizeof *m);
    m->map_entry = (uint8_t)map_entry;
    m->proto3 = (uint8_t)c->proto3;
    if (!(m->full_name = join_name(prefix, name, name_n))) return nomem(c);
    return message_body(c, mi, s, n, depth);
}

/* ---- files ---- */

static sl_err_t parse_file(dctx *c, const uint8_t *s, size_t n)
{
    dr r = {s, s + n};
    dfield f;
    int k;
    sl_err_t rc = SL_OK;
    char *fname = NULL, *pkg = NULL, *syntax = NULL;
    int edition = 0;
    while ((k = dr_next(&r, &f)) == 1) {
        char **str = NULL;
        if (f.wt == 2 && f.num == 1) str = &fname;
        if (f.wt == 2 && f.num == 2) str = &pkg;
        if (f.wt == 2 && f.num == 12) str = &syntax;
        if (f.num == 14) edition = 1; /* FileDescriptorProto.edition */
        if (str) {
            free(*str);
            if (!(*str = dup_n(f.s, f.n))) {
                rc = nomem(c);
                goto done;
            }
        }
    }
    c->file = fname ? fname : "(unnamed)";
    if (k < 0) {
        rc = bad(c, r.p, "malformed FileDescriptorProto", NULL);
        goto done;
    }
    if ((syntax && !strcmp(syntax, "editions")) || (edition && (!syntax || !*syntax))) {
        rc = sl_error_set(c->err, SL_ERR_UNSUPPORTED,
                          "schema file %s uses protobuf editions, which sluice does not support "
                          "yet; declare syntax = \"proto3\" or \"proto2\"",
                          c->file);
        goto done;
    }
    if (syntax && *syntax && strcmp(syntax, "proto2") && strcmp(syntax, "proto3")) {
        rc = sl_error_set(c->err, SL_ERR_UNSUPPORTED,
                          "schema file %s: unknown syntax \"%.40s\" (expected proto2 or proto3)",
                          c->file, syntax);
        goto done;
    }
    c->proto3 = syntax && !strcmp(syntax, "proto3");
    r.p = s;
    while ((k = dr_next(&r, &f)) == 1) {
        if (f.wt != 2) continue;
        if (f.num == 4)
            rc = parse_message(c, pkg ? pkg : "", f.s, f.n, 1);
        else if (f.num == 5)
            rc = parse_enum(c, pkg ? pkg : "", f.s, f.n);
        if (rc) goto done;
    }
done:
    c->file = NULL; /* error texts were formatted already */
    free(fname);
    free(pkg);
    free(syntax);
    return rc;
}

/* ---- name resolution ---- */

typedef struct name_ent {
    const char *name;
    int32_t idx; /* >= 0 message (pool index), < 0: enum -(idx + 1) */
} name_ent;

static int cmp_ent(const void *a, const void *b)
{
    return strcmp(((const name_ent *)a)->name, ((const name_ent *)b)->name);
}

static const name_ent *find_ent(const name_ent *t, size_t n, const char *name)
{
    name_ent key = {name, 0};
    return bsearch(&key, t, n, sizeof *t, cmp_ent);
}

/* protobuf scoping: ".a.b.C" is absolute; "C" is looked up in the
 * message's scope, then each enclosing scope outwards. */
static const name_ent *resolve(const name_ent *t, size_t n, const char *scope, const char *tn,
                               char *tmp, size_t tmp_cap)
{
    if (tn[0] == '.') return find_ent(t, n, tn + 1);
    size_t sl = strlen(scope), tl = strlen(tn);
    if (sl + tl + 2 > tmp_cap) return NULL;
    for (;;) {
        memcpy(tmp, scope, sl);
        size_t k = sl;
        if (sl) tmp[k++] = '.';
        memcpy(tmp + k, tn, tl + 1);
        const name_ent *e = find_ent(t, n, tmp);
        if (e || !sl) return e;
        while (sl && scope[sl - 1] != '.')
            sl--;
        if (sl) sl--;
    }
}

static sl_err_t resolve_all(dctx *c, const sl_pb_pool *pool)
{
    sl_err_t rc = SL_OK;
    size_t n =
        (size_t)pool->n_msgs + (size_t)pool->n_enums + (size_t)c->n_msgs + (size_t)c->n_enums;
    name_ent *t = malloc((n ? n : 1) * sizeof *t);
    char *tmp = NULL;
    size_t k = 0;
    if (!t) return nomem(c);
    for (int32_t i = 0; i < pool->n_msgs; i++)
        t[k++] = (name_ent){pool->msgs[i].full_name, i};
    for (int32_t i = 0; i < c->n_msgs; i++)
        t[k++] = (name_ent){c->msgs[i].full_name, pool->n_msgs + i};
    for (int32_t i = 0; i < pool->n_enums; i++)
        t[k++] = (name_ent){pool->enums[i].full_name, -(i + 1)};
    for (int32_t i = 0; i < c->n_enums; i++)
        t[k++] = (name_ent){c->enums[i].full_name, -(pool->n_enums + i + 1)};
    qsort(t, n, sizeof *t, cmp_ent);
    for (size_t i = 1; i < n; i++) {
        if (!strcmp(t[i - 1].name, t[i].name)) {
            rc = sl_error_set(c->err, SL_ERR_SCHEMA,
                              "descriptor set: type %s is defined twice (two descriptor sets "
                              "holding the same file?); load each .proto once",
                              t[i].name);
            goto done;
        }
    }
    size_t tmp_cap = 0;
    for (int32_t i = 0; i < c->n_refs; i++) {
        pending_ref *pr = &c->refs[i];
        sl_pb_msg *m = &c->msgs[pr->msg];
        sl_pb_field *f = &m->fields[pr->field];
        size_t need = strlen(m->full_name) + strlen(pr->type_name) + 2;
        if (need > tmp_cap) {
            free(tmp);
            tmp_cap = need * 2;
            if (!(tmp = malloc(tmp_cap))) {
                rc = nomem(c);
                goto done;
            }
        }
        const name_ent *e = resolve(t, n, m->full_name, pr->type_name, tmp, tmp_cap);
        int is_msg = e && e->idx >= 0;
        if (f->type == 0 && e) f->type = is_msg ? SL_PB_MESSAGE : SL_PB_ENUM;
        int want_msg = f->type == SL_PB_MESSAGE || f->type == SL_PB_GROUP;
        int want_enum = f->type == SL_PB_ENUM;
        if (!e || (want_msg && !is_msg) || (want_enum && is_msg)) {
            rc = sl_error_set(c->err, SL_ERR_SCHEMA,
                              "descriptor set: %s.%s: type %s %s; if it is imported, build the "
                              "set with protoc --include_imports",
                              m->full_name, f->name, pr->type_name,
                              e ? "is not of the field's kind" : "not found");
            goto done;
        }
        if (want_msg) f->msg = e->idx;
        if (want_enum) f->enm = -e->idx - 1;
    }
done:
    free(tmp);
    free(t);
    return rc;
}

/* ---- public ---- */

sl_err_t sl_pb_pool_add_set(sl_pb_pool *pool, const uint8_t *data, size_t len, sl_error *err)
{
    dctx c;
    memset(&c, 0, sizeof c);
    c.base = data;
    c.err = err;
    dr r = {data, data + len};
    dfield f;
    int k;
    sl_err_t rc = SL_OK;
    while ((k = dr_next(&r, &f)) == 1) {
        if (f.num != 1) continue;
        if (f.wt != 2) {
            rc = bad(&c, r.p, "file entry is not length-delimited", NULL);
            goto fail;
        }
        if ((rc = parse_file(&c, f.s, f.n))) goto fail;
    }
    if (k < 0) {
        rc = bad(&c, r.p, "malformed FileDescriptorSet", NULL);
        goto fail;
    }
    if ((rc = resolve_all(&c, pool))) goto fail;
    /* Commit: append the new types to the pool. */
    sl_pb_msg *nm = realloc(pool->msgs, ((size_t)pool->n_msgs + (size_t)c.n_msgs + 1) * sizeof *nm);
    if (!nm) goto oom;
    pool->msgs = nm;
    sl_pb_enum *ne =
        realloc(pool->enums, ((size_t)pool->n_enums + (size_t)c.n_enums + 1) * sizeof *ne);
    if (!ne) goto oom;
    pool->enums = ne;
    if (c.n_msgs) memcpy(pool->msgs + pool->n_msgs, c.msgs, (size_t)c.n_msgs * sizeof *nm);
    if (c.n_enums) memcpy(pool->enums + pool->n_enums, c.enums, (size_t)c.n_enums * sizeof *ne);
    pool->n_msgs += c.n_msgs;
    pool->n_enums += c.n_enums;
    c.n_msgs = c.n_enums = 0;
    dctx_free(&c);
    return SL_OK;
oom:
    rc = nomem(&c);
fail:
    dctx_free(&c);
    return rc;
}

void sl_pb_pool_free(sl_pb_pool *pool)
{
    if (!pool) return;
    for (int32_t i = 0; i < pool->n_msgs; i++)
        free_msg(&pool->msgs[i]);
    for (int32_t i = 0; i < pool->n_enums; i++)
        free_enum(&pool->enums[i]);
    free(pool->msgs);
    free(pool->enums);
    memset(pool, 0, sizeof *pool);
}

int32_t sl_pb_pool_find_msg(const sl_pb_pool *pool, const char *full_name)
{
    if (!full_name) return -1;
    if (full_name[0] == '.') full_name++;
    for (int32_t i = 0; i < pool->n_msgs; i++)
        if (!strcmp(pool->msgs[i].full_name, full_name)) return i;
    return -1;
}
