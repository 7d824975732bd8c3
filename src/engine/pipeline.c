/* pipeline.c - compile a parsed pipeline file (see pipeline.h). */
#include "engine/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/deadletter.h"
#include "engine/lua_etl.h"
#include "formats/batch/kbatch.h"
#include "formats/parquet/pq_writer.h"

#define CTX(st) cfg->file, (st)->line, (st)->col, (int)(st - cfg->streams), (st)->name

/* ---- schemas: plan schema + metadata columns, optionally projected ---- */

static const struct {
    unsigned bit;
    const char *name;
    sl_ptype_t pt;
    uint8_t lt; /* logical kind */
} meta_cols[] = {
    {SL_META_TOPIC, "_topic", SL_PT_BYTE_ARRAY, SL_LT_STRING},
    {SL_META_PARTITION, "_partition", SL_PT_INT32, SL_LT_NONE},
    {SL_META_OFFSET, "_offset", SL_PT_INT64, SL_LT_NONE},
    {SL_META_KAFKA_TIMESTAMP, "_kafka_timestamp", SL_PT_INT64, SL_LT_TIMESTAMP},
    {SL_META_INGEST_TIME, "_ingest_time", SL_PT_INT64, SL_LT_TIMESTAMP},
};

static int32_t copy_node(sl_schema *dst, int32_t parent, const sl_schema *src, int32_t n)
{
    const sl_node *sn = &src->nodes[n];
    int32_t d = sl_schema_add(dst, parent, sn->name, (sl_repetition_t)sn->rep, sn->is_group,
                              (sl_ptype_t)sn->ptype, sn->logical, sn->field_id);
    if (d < 0) return d;
    for (int32_t i = 0; i < sn->n_children; i++) {
        int32_t c = copy_node(dst, d, src, sn->children[i]);
        if (c < 0) return c;
    }
    return d;
}

/* dst = the root children of src listed in pick (n_pick of them, in that
 * order; pick NULL: all, in order), then the metadata columns of `meta`. */
static sl_err_t rebuild(sl_schema *dst, const sl_schema *src, const int32_t *pick, int32_t n_pick,
                        unsigned meta, sl_error *err)
{
    sl_err_t rc = sl_schema_init(dst, src->nodes[0].name);
    if (rc) return sl_error_set(err, rc, "out of memory");
    const sl_node *root = &src->nodes[0];
    int32_t n = pick ? n_pick : root->n_children;
    for (int32_t i = 0; i < n; i++) {
        if (copy_node(dst, 0, src, root->children[pick ? pick[i] : i]) < 0)
            return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < sizeof meta_cols / sizeof meta_cols[0]; i++) {
        if (!(meta & meta_cols[i].bit)) continue;
        sl_logical lt = {0};
        lt.kind = meta_cols[i].lt;
        if (lt.kind == SL_LT_TIMESTAMP) {
            lt.unit = SL_TU_MILLIS;
            lt.utc = 1;
        }
        if (sl_schema_add(dst, 0, meta_cols[i].name, SL_REQUIRED, 0, meta_cols[i].pt, lt, -1) < 0)
            return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    }
    if (src->message_name && !(dst->message_name = strdup(src->message_name)))
        return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    return sl_schema_finish(dst, err);
}

/* ---- path templates ---- */

static sl_err_t tpl_compile(sl_template *t, const char *text, const sl_plan *plan, sl_error *err)
{
    memset(t, 0, sizeof *t);
    size_t n = strlen(text);
    t->segs = calloc(n + 1, sizeof *t->segs);
    if (!t->segs) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    const char *s = text, *first_brace = strchr(text, '{');
    size_t rootlen = first_brace ? (size_t)(first_brace - text) : n;
    while (rootlen > 0 && text[rootlen - 1] != '/')
        rootlen--;
    if (rootlen > 1 && text[rootlen - 1] == '/') rootlen--;
    if (!(t->root = strndup(text, rootlen ? rootlen : 1))) goto nomem;
    if (!rootlen) t->root[0] = '.';
    while (*s) {
        sl_tpl_seg *g = &t->segs[t->n];
        if (*s != '{') {
            const char *e = strchr(s, '{');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            g->kind = SL_TPL_LIT;
            if (!(g->lit = strndup(s, len))) goto nomem;
            s += len;
            t->n++;
            continue;
        }
        const char *e = strchr(s, '}');
        if (!e)
            return sl_error_set(err, SL_ERR_INVALID, "path '%s': '{' without a closing '}'", text);
        char name[256];
        size_t len = (size_t)(e - s - 1);
        if (len == 0 || len >= sizeof name)
            return sl_error_set(err, SL_ERR_INVALID, "path '%s': empty or too long {name}", text);
        memcpy(name, s + 1, len);
        name[len] = '\0';
        if (!strcmp(name, "stream"))
            g->kind = SL_TPL_STREAM;
        else if (!strcmp(name, "date"))
            g->kind = SL_TPL_DATE;
        else if (!strcmp(name, "hour")) {
            g->kind = SL_TPL_HOUR;
            t->has_hour = 1;
        } else {
            g->kind = SL_TPL_FIELD;
            sl_err_t rc = sl_path_resolve(&g->path, plan, name, err);
            if (rc) {
                sl_error_prefix(err, "path '%s': {%s} is not {stream}, {date}, {hour} or a field",
                                text, name);
                return rc;
            }
            if (g->path.leaf->child >= 0)
                return sl_error_set(err, SL_ERR_INVALID,
                                    "path '%s': {%s} is a message; name a scalar field", text,
                                    name);
            t->by_field = 1;
        }
        t->n++;
        s = e + 1;
    }
    return SL_OK;
nomem:
    return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
}

static void tpl_free(sl_template *t)
{
    for (int32_t i = 0; i < t->n; i++)
        free(t->segs[i].lit);
    free(t->segs);
    free(t->root);
    memset(t, 0, sizeof *t);
}

/* Append a value from data, sanitized for a path segment: '/', '\\' and
 * control characters become '_', and so does a '.' that starts the value or
 * touches another '.', so no value can climb up ("..") or hide a directory
 * (".x"). Empty is "__empty__". */
static size_t put_clean(char *out, size_t pos, size_t cap, const uint8_t *p, size_t len)
{
    if (len == 0) {
        const char *e = "__empty__";
        for (; *e && pos + 1 < cap; e++)
            out[pos++] = *e;
        return pos;
    }
    for (size_t i = 0; i < len && pos + 1 < cap; i++) {
        uint8_t c = p[i];
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' ||
            (c == '.' && (i == 0 || p[i - 1] == '.' || (i + 1 < len && p[i + 1] == '.'))))
            c = '_';
        out[pos++] = (char)c;
    }
    return pos;
}

int sl_tpl_expand(const sl_template *tpl, const sl_stream *st, const sl_rec *r, int64_t et_ms,
                  char *out, size_t cap)
{
    size_t pos = 0;
    char tmp[64];
    int64_t secs = et_ms >= 0 ? et_ms / 1000 : -((-et_ms + 999) / 1000);
    time_t tt = (time_t)secs;
    struct tm tm;
    int have_tm = 0;
    for (int32_t i = 0; i < tpl->n; i++) {
        const sl_tpl_seg *g = &tpl->segs[i];
        const char *lit = NULL;
        size_t len = 0;
        switch (g->kind) {
        case SL_TPL_LIT:
            lit = g->lit;
            len = strlen(lit);
            break;
        case SL_TPL_STREAM:
            lit = st->cfg->name;
            len = strlen(lit);
            break;
        case SL_TPL_DATE:
        case SL_TPL_HOUR:
            if (!have_tm) {
                gmtime_r(&tt, &tm);
                have_tm = 1;
            }
            len = g->kind == SL_TPL_DATE
                      ? (size_t)snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", tm.tm_year + 1900,
                                         tm.tm_mon + 1, tm.tm_mday)
                      : (size_t)snprintf(tmp, sizeof tmp, "%02d", tm.tm_hour);
            lit = tmp;
            break;
        case SL_TPL_FIELD: {
            sl_val v;
            int got = sl_path_get(r, &g->path, &v);
            const sl_plan_field *f = g->path.leaf;
            if (got < 0) {
                lit = "__null__";
                len = 8;
            } else if (f->type == SL_PB_STRING || f->type == SL_PB_BYTES) {
                pos = put_clean(out, pos, cap, v.s.p, v.s.len);
                continue;
            } else if (f->type == SL_PB_ENUM) {
                const char *name = NULL;
                for (int32_t k = 0; f->enm && k < f->enm->n_values; k++)
                    if (f->enm->values[k].number == (int32_t)v.i) name = f->enm->values[k].name;
                len = name ? (size_t)snprintf(tmp, sizeof tmp, "%s", name)
                           : (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)v.i);
                lit = tmp;
            } else if (f->type == SL_PB_BOOL) {
                lit = v.u ? "true" : "false";
                len = strlen(lit);
            } else if (f->type == SL_PB_UINT32 || f->type == SL_PB_UINT64 ||
                       f->type == SL_PB_FIXED32 || f->type == SL_PB_FIXED64) {
                len = (size_t)snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v.u);
                lit = tmp;
            } else if (f->type == SL_PB_FLOAT || f->type == SL_PB_DOUBLE) {
                len = (size_t)snprintf(tmp, sizeof tmp, "%.17g",
                                       f->type == SL_PB_FLOAT ? (double)v.f : v.d);
                lit = tmp;
            } else {
                len = (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)v.i);
                lit = tmp;
            }
            pos = put_clean(out, pos, cap, (const uint8_t *)lit, len);
            continue;
        }
        }
        if (pos + len + 1 > cap) return -1;
        memcpy(out + pos, lit, len);
        pos += len;
    }
    if (pos + 1 > cap) return -1;
    out[pos] = '\0';
    return (int)pos;
}

int sl_template_expand(const sl_stream *st, const sl_rec *r, int64_t et_ms, char *out, size_t cap)
{
    return sl_tpl_expand(&st->tpl, st, r, et_ms, out, cap);
}

/* ---- event time ---- */

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9') return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

/* ".fff..." -> milliseconds (more digits are read and cut). */
static void fraction(const char **p, int *ms)
{
    *ms = 0;
    if (**p != '.') return;
    (*p)++;
    int n = 0;
    while (**p >= '0' && **p <= '9') {
        if (n < 3) *ms = *ms * 10 + (**p - '0');
        n++;
        (*p)++;
    }
    for (; n < 3; n++)
        *ms *= 10;
}

/* RFC 3339: 2025-12-01T13:05:00[.250](Z|+08:00|-0130); 't' and ' ' for 'T'. */
static int parse_rfc3339(const char *s, int64_t *ms)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec, frac, oh = 0, om = 0, sign = 0;
    const char *p = s;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ') return -1;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
        digits(&p, 2, &sec))
        return -1;
    fraction(&p, &frac);
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
        if (digits(&p, 2, &oh)) return -1;
        if (*p == ':') p++;
        if (digits(&p, 2, &om)) return -1;
    } else
        return -1;
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *ms = ((int64_t)timegm(&tm) - (int64_t)sign * (oh * 3600 + om * 60)) * 1000 + frac;
    return 0;
}

int sl_stream_event_time(const sl_stream *st, const sl_rec *r, int64_t kts, int64_t *et, char *why,
                         size_t cap)
{
    if (st->et_from_kafka) {
        *et = kts;
        return 0;
    }
    sl_val v;
    if (sl_path_get(r, &st->et_path, &v) < 0) {
        snprintf(why, cap, "event time: field %s is null", st->cfg->event_time.field);
        return -1;
    }
    if (!st->et_string) {
        uint8_t t = st->et_path.leaf->type;
        int64_t raw =
            (t == SL_PB_UINT64 || t == SL_PB_FIXED64) && v.u > INT64_MAX ? INT64_MAX : v.i;
        *et = raw / st->et_div * st->et_mul;
        return 0;
    }
    char buf[128];
    if (v.s.len >= sizeof buf) {
        snprintf(why, cap, "event time: field %s is %u bytes long, not a timestamp",
                 st->cfg->event_time.field, v.s.len);
        return -1;
    }
    memcpy(buf, v.s.p, v.s.len);
    buf[v.s.len] = '\0';
    int ok;
    if (st->et_rfc3339)
        ok = parse_rfc3339(buf, et) == 0;
    else {
        struct tm tm = {0};
        const char *end = strptime(buf, st->cfg->event_time.format, &tm);
        int frac = 0;
        if (end) fraction(&end, &frac);
        ok = end && !*end;
        if (ok) *et = (int64_t)timegm(&tm) * 1000 + frac;
    }
    if (!ok) {
        snprintf(why, cap, "event time: field %s = '%.64s' does not match format '%s'",
                 st->cfg->event_time.field, buf, st->cfg->event_time.format);
        return -1;
    }
    return 0;
}

/* ---- routing by field ---- */

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

int32_t sl_route_group_lookup(const sl_route_group *g, const sl_rec *r)
{
    sl_val v;
    if (sl_path_get(r, &g->path, &v) < 0) return -1;
    const uint8_t *key;
    uint32_t len;
    if (g->is_bytes) {
        key = v.s.p;
        len = v.s.len;
    } else {
        key = (const uint8_t *)&v.u;
        len = 8;
    }
    for (uint32_t h = hash_bytes(key, len) & g->mask;; h = (h + 1) & g->mask) {
        const struct sl_route_slot *s = &g->table[h];
        if (s->stream < 0) return -1;
        if (s->len == len && !memcmp(s->key, key, len)) return s->stream;
    }
}

/* The equals text of a field route as the key bytes the lookup compares. */
static sl_err_t route_key(const sl_cfg *cfg, const sl_cfg_stream *st, const sl_path *path,
                          uint8_t num[8], const uint8_t **key, uint32_t *len, sl_error *err)
{
    const sl_plan_field *f = path->leaf;
    const char *eq = st->route.equals;
    sl_val v = {0};
    char *end = NULL;
    switch (f->type) {
    case SL_PB_STRING:
    case SL_PB_BYTES:
        *key = (const uint8_t *)eq;
        *len = (uint32_t)strlen(eq);
        return SL_OK;
    case SL_PB_ENUM: {
        int32_t n;
        if (sl_plan_enum_by_name(f->enm, eq, strlen(eq), &n) == 0)
            v.i = n;
        else {
            v.i = strtoll(eq, &end, 10);
            if (!*eq || *end)
                return sl_error_set(err, SL_ERR_INVALID,
                                    "%s:%d:%d: streams[%d] (%s): route.equals '%s' is not a value "
                                    "of enum %s",
                                    cfg->file, st->route.line, st->route.col,
                                    (int)(st - cfg->streams), st->name, eq, f->enm->full_name);
        }
        break;
    }
    case SL_PB_BOOL:
        if (strcmp(eq, "true") && strcmp(eq, "false")) goto bad;
        v.u = !strcmp(eq, "true");
        break;
    case SL_PB_UINT32:
    case SL_PB_UINT64:
    case SL_PB_FIXED32:
    case SL_PB_FIXED64:
        v.u = strtoull(eq, &end, 10);
        if (!*eq || *end || *eq == '-') goto bad;
        break;
    case SL_PB_INT32:
    case SL_PB_INT64:
    case SL_PB_SINT32:
    case SL_PB_SINT64:
    case SL_PB_SFIXED32:
    case SL_PB_SFIXED64:
        v.i = strtoll(eq, &end, 10);
        if (!*eq || *end) goto bad;
        break;
    default:
        return sl_error_set(err, SL_ERR_INVALID,
                            "%s:%d:%d: streams[%d] (%s): route.field '%s' must be a string, bytes, "
                            "enum, bool or integer field",
                            cfg->file, st->route.line, st->route.col, (int)(st - cfg->streams),
                            st->name, st->route.name);
    }
    memcpy(num, &v.u, 8);
    *key = num;
    *len = 8;
    return SL_OK;
bad:
    return sl_error_set(err, SL_ERR_INVALID,
                        "%s:%d:%d: streams[%d] (%s): route.equals '%s' is not a value of field "
                        "'%s' (%s)",
                        cfg->file, st->route.line, st->route.col, (int)(st - cfg->streams),
                        st->name, eq, st->route.name, sl_pb_type_name(f->type));
}

static sl_err_t build_groups(sl_pipeline *p, sl_error *err)
{
    const sl_cfg *cfg = p->cfg;
    int32_t n = 0;
    for (int32_t i = 0; i < p->n_streams; i++)
        if (cfg->streams[i].route.kind == SL_ROUTE_FIELD) n++;
    if (!n) return SL_OK;
    p->groups = calloc((size_t)n, sizeof *p->groups);
    if (!p->groups) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < p->n_streams; i++) {
        const sl_cfg_stream *cs = &cfg->streams[i];
        sl_stream *st = &p->streams[i];
        if (cs->route.kind != SL_ROUTE_FIELD) continue;
        sl_route_group *g = NULL;
        for (int32_t k = 0; k < p->n_groups; k++)
            if (p->groups[k].plan == st->plan && p->groups[k].path.n == st->route_path.n &&
                !memcmp(p->groups[k].path.field, st->route_path.field,
                        sizeof(int32_t) * (size_t)st->route_path.n))
                g = &p->groups[k];
        if (!g) {
            g = &p->groups[p->n_groups++];
            g->plan = st->plan;
            g->path = st->route_path;
            uint8_t t = st->route_path.leaf->type;
            g->is_bytes = t == SL_PB_STRING || t == SL_PB_BYTES;
            uint32_t size = 16;
            while (size < (uint32_t)n * 2)
                size *= 2;
            g->mask = size - 1;
            g->table = malloc(size * sizeof *g->table);
            g->num_keys = calloc((size_t)p->n_streams, 8);
            if (!g->table || !g->num_keys) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
            for (uint32_t k = 0; k < size; k++)
                g->table[k].stream = -1;
        }
        const uint8_t *key = NULL;
        uint32_t len = 0;
        sl_err_t rc = route_key(cfg, cs, &st->route_path, g->num_keys[i], &key, &len, err);
        if (rc) return rc;
        for (uint32_t h = hash_bytes(key, len) & g->mask;; h = (h + 1) & g->mask) {
            struct sl_route_slot *s = &g->table[h];
            if (s->stream < 0) {
                *s = (struct sl_route_slot){i, len, key};
                break;
            }
            if (s->len == len && !memcmp(s->key, key, len))
                return sl_error_set(err, SL_ERR_INVALID,
                                    "%s:%d:%d: streams[%d] (%s): route field %s equals '%s' is "
                                    "already the route of stream %s",
                                    cfg->file, cs->route.line, cs->route.col, (int)i, cs->name,
                                    cs->route.name, cs->route.equals, cfg->streams[s->stream].name);
        }
    }
    return SL_OK;
}

int32_t sl_pipeline_route_meta(const sl_pipeline *p, const char *topic,
                               const char *(*get_header)(void *arg, const char *name, size_t *len),
                               void *arg)
{
    if (p->route_all >= 0) return p->route_all;
    const sl_cfg *cfg = p->cfg;
    for (int32_t i = 0; i < p->n_streams; i++) {
        const sl_cfg_stream *cs = &cfg->streams[i];
        if (cs->route.kind == SL_ROUTE_TOPIC) {
            if (!strcmp(cs->route.name, topic)) return i;
        } else if (cs->route.kind == SL_ROUTE_HEADER && get_header) {
            size_t len;
            const char *v = get_header(arg, cs->route.name, &len);
            if (v && len == strlen(cs->route.equals) && !memcmp(v, cs->route.equals, len)) return i;
        }
    }
    return -1;
}

/* ---- streams ---- */

static sl_err_t stream_compile(sl_pipeline *p, int32_t i, sl_error *err)
{
    const sl_cfg *cfg = p->cfg;
    const sl_cfg_stream *cs = &cfg->streams[i];
    sl_stream *st = &p->streams[i];
    sl_err_t rc;
    st->cfg = cs;
    st->idx = i;
    st->out_files = -1;
    st->out_kafka = -1;
    /* the plan, shared by message */
    st->plan = -1;
    for (int32_t k = 0; k < p->n_plans; k++)
        if (!strcmp(p->plan_msg[k], cs->message)) st->plan = k;
    if (st->plan < 0) {
        int32_t k = p->n_plans;
        if ((rc = sl_plan_compile(&p->plans[k], &p->pool, cs->message, err))) goto fail;
        if (!(p->plan_msg[k] = strdup(cs->message))) {
            sl_plan_free(&p->plans[k]);
            return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        }
        p->n_plans++;
        st->plan = k;
    }
    const sl_plan *plan = &p->plans[st->plan];
    st->n_plan_leaves = plan->schema.n_leaves;
    st->meta = cs->etl.metadata;
    /* schemas */
    if ((rc = rebuild(&st->emit_schema, &plan->schema, NULL, 0, st->meta, err))) goto fail;
    {
        /* projection: the listed top-level fields, in the listed order */
        int32_t *pick = NULL, n_pick = 0;
        const sl_node *root = &plan->schema.nodes[0];
        if (cs->etl.columns) {
            pick = calloc((size_t)cs->etl.n_columns + 1, sizeof *pick);
            if (!pick) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
            for (int32_t c = 0; c < cs->etl.n_columns; c++) {
                int32_t f = -1;
                for (int32_t k = 0; k < root->n_children; k++)
                    if (!strcmp(plan->schema.nodes[root->children[k]].name, cs->etl.columns[c]))
                        f = k;
                for (int32_t k = 0; k < n_pick && f >= 0; k++)
                    if (pick[k] == f) f = -2;
                if (f < 0) {
                    free(pick);
                    rc = sl_error_set(err, f == -2 ? SL_ERR_INVALID : SL_ERR_NOTFOUND,
                                      f == -2 ? "etl.columns: '%s' is listed twice"
                                              : "etl.columns: '%s' is not a top-level field of %s",
                                      cs->etl.columns[c], cs->message);
                    goto fail;
                }
                pick[n_pick++] = f;
            }
        }
        rc = rebuild(&st->out_schema, &plan->schema, pick, n_pick, st->meta, err);
        st->out_leaf = malloc(sizeof(int32_t) * (size_t)(st->out_schema.n_leaves + 1));
        int32_t o = 0, n = pick ? n_pick : root->n_children;
        for (int32_t k = 0; !rc && st->out_leaf && k < n; k++) {
            const sl_node *nd = &plan->schema.nodes[root->children[pick ? pick[k] : k]];
            for (int32_t l = 0; l < nd->n_leaves; l++)
                st->out_leaf[o++] = nd->first_leaf + l;
        }
        for (int32_t l = st->n_plan_leaves; st->out_leaf && l < st->emit_schema.n_leaves; l++)
            st->out_leaf[o++] = l;
        free(pick);
        if (rc) goto fail;
        if (!st->out_leaf) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
    }
    /* route */
    if (cs->route.kind == SL_ROUTE_FIELD) {
        if ((rc = sl_path_resolve(&st->route_path, plan, cs->route.name, err))) {
            sl_error_prefix(err, "%s:%d:%d: streams[%d] (%s): route.field", cfg->file,
                            cs->route.line, cs->route.col, (int)i, cs->name);
            return rc;
        }
    }
    /* event time */
    if (cs->event_time.field) {
        if ((rc = sl_path_resolve(&st->et_path, plan, cs->event_time.field, err))) {
            sl_error_prefix(err, "%s:%d:%d: streams[%d] (%s): event_time.field", cfg->file,
                            cs->event_time.line, cs->event_time.col, (int)i, cs->name);
            return rc;
        }
        uint8_t t = st->et_path.leaf->type;
        const char *fmt = cs->event_time.format;
        if (t == SL_PB_STRING && st->et_path.leaf->child < 0) {
            if (!fmt)
                return sl_error_set(
                    err, SL_ERR_INVALID,
                    "%s:%d:%d: streams[%d] (%s): event_time.field '%s' is a string; "
                    "say how to read it with event_time.format (rfc3339, or a "
                    "strptime format such as '%%Y-%%m-%%d %%H:%%M:%%S')",
                    cfg->file, cs->event_time.line, cs->event_time.col, (int)i, cs->name,
                    cs->event_time.field);
            st->et_string = 1;
            st->et_rfc3339 = !strcmp(fmt, "rfc3339");
        } else if (st->et_path.leaf->child >= 0 || t == SL_PB_BYTES || t == SL_PB_BOOL ||
                   t == SL_PB_ENUM || t == SL_PB_FLOAT || t == SL_PB_DOUBLE || fmt)
            return sl_error_set(err, SL_ERR_INVALID,
                                "%s:%d:%d: streams[%d] (%s): event_time.field '%s' is %s; it must "
                                "be an integer (epoch seconds, ms, us or ns)%s",
                                cfg->file, cs->event_time.line, cs->event_time.col, (int)i,
                                cs->name, cs->event_time.field, sl_pb_type_name(t),
                                fmt ? ", or a string when event_time.format is set" : "");
        static const int64_t mul[] = {1000, 1, 1, 1}, div[] = {1, 1, 1000, 1000000};
        st->et_mul = mul[cs->event_time.unit];
        st->et_div = div[cs->event_time.unit];
    } else
        st->et_from_kafka = 1;
    /* ETL */
    if (cs->etl.filter) {
        if ((rc = sl_filter_compile(&st->filter, cs->etl.filter, plan, err))) {
            sl_error_prefix(err, "%s:%d:%d: streams[%d] (%s): etl.filter", cfg->file,
                            cs->etl.filter_line, cs->etl.filter_col, (int)i, cs->name);
            return rc;
        }
    }
    if (cs->etl.script) { /* load it once here, so its errors stop the start */
        sl_lua_etl *l = NULL;
        if ((rc = sl_lua_etl_open(&l, cs->etl.script, plan, err))) {
            sl_error_prefix(err, "%s:%d:%d: streams[%d] (%s): etl.script", cfg->file, cs->line,
                            cs->col, (int)i, cs->name);
            return rc;
        }
        sl_lua_etl_free(l);
    }
    /* framing */
    st->framing_batch = cs->framing == SL_FRAMING_BATCH;
    if (st->framing_batch &&
        (rc = sl_kbatch_codec_parse(cs->batch_compression ? cs->batch_compression : "auto",
                                    &st->batch_codec, err)))
        goto fail;
    /* outputs */
    for (int32_t o = 0; o < cs->n_outputs; o++) {
        const sl_cfg_output *out = &cs->outputs[o];
        if (out->kind == SL_OUT_KAFKA) {
            if (st->out_kafka >= 0)
                return sl_error_set(err, SL_ERR_INVALID,
                                    "%s:%d:%d: streams[%d] (%s): outputs[%d]: one kafka output per "
                                    "stream",
                                    cfg->file, out->line, out->col, (int)i, cs->name, (int)o);
            st->out_kafka = o;
            st->kafka_topic = out->topic;
            st->kafka_passthrough = out->format == SL_OUTF_PASSTHROUGH;
            p->has_kafka_out = 1;
            if (cs->etl.columns && !st->kafka_passthrough) {
                const sl_node *root = &plan->schema.nodes[0];
                st->kafka_keep = calloc((size_t)root->n_children + 1, 1);
                if (!st->kafka_keep) return sl_error_set(err, SL_ERR_NOMEM, "out of memory");
                for (int32_t c = 0; c < cs->etl.n_columns; c++)
                    for (int32_t k = 0; k < root->n_children; k++)
                        if (!strcmp(plan->schema.nodes[root->children[k]].name, cs->etl.columns[c]))
                            st->kafka_keep[k] = 1;
            }
            continue;
        }
        if (st->out_files >= 0)
            return sl_error_set(err, SL_ERR_INVALID,
                                "%s:%d:%d: streams[%d] (%s): outputs[%d]: one files output per "
                                "stream",
                                cfg->file, out->line, out->col, (int)i, cs->name, (int)o);
        st->out_files = o;
        st->jsonl = out->format == SL_OUTF_JSONL;
        if ((rc = tpl_compile(&st->tpl, out->path, plan, err))) {
            sl_error_prefix(err, "%s:%d:%d: streams[%d] (%s): outputs[%d].path", cfg->file,
                            out->line, out->col, (int)i, cs->name, (int)o);
            return rc;
        }
        if ((rc = sl_pq_codec_parse(out->compression ? out->compression : "zstd", &st->codec, err)))
            goto fail;
        st->no_delta = !out->delta;
    }
    if (cs->commit.late == SL_LATE_SIDE_OUTPUT && cs->commit.late_path &&
        (rc = tpl_compile(&st->late_tpl, cs->commit.late_path, plan, err))) {
        sl_error_prefix(err, "%s:%d:%d: streams[%d] (%s): commit.late_path", cfg->file, cs->line,
                        cs->col, (int)i, cs->name);
        return rc;
    }
    if (cs->commit.late == SL_LATE_SIDE_OUTPUT && !st->late_tpl.n)
        return sl_error_set(err, SL_ERR_INVALID,
                            "%s:%d:%d: streams[%d] (%s): commit.late: side-output needs a files "
                            "output or commit.late_path",
                            cfg->file, cs->line, cs->col, (int)i, cs->name);
    return SL_OK;
fail:
    sl_error_prefix(err, "%s:%d:%d: streams[%d] (%s)", CTX(cs));
    return rc;
}

sl_err_t sl_pipeline_compile(sl_pipeline *p, const sl_cfg *cfg, sl_error *err)
{
    memset(p, 0, sizeof *p);
    p->cfg = cfg;
    p->route_all = -1;
    sl_err_t rc;
    for (int32_t i = 0; i < cfg->n_schemas; i++) {
        if ((rc = sl_pb_pool_load(&p->pool, cfg->schemas[i], err))) {
            sl_error_prefix(err, "%s: schemas[%d]", cfg->file, (int)i);
            goto fail;
        }
    }
    p->plans = calloc((size_t)cfg->n_streams + 1, sizeof *p->plans);
    p->plan_msg = calloc((size_t)cfg->n_streams + 1, sizeof *p->plan_msg);
    p->streams = calloc((size_t)cfg->n_streams + 1, sizeof *p->streams);
    if (!p->plans || !p->plan_msg || !p->streams) {
        rc = sl_error_set(err, SL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int32_t i = 0; i < cfg->n_streams; i++) {
        p->n_streams = i + 1;
        if ((rc = stream_compile(p, i, err))) goto fail;
    }
    if (cfg->n_streams == 1 && cfg->streams[0].route.kind == SL_ROUTE_ALL) p->route_all = 0;
    if (cfg->dead_letter.kind == SL_OUT_KAFKA) /* its messages go in the checkpoint's transaction */
        p->has_kafka_out = 1;
    else if ((rc = sl_dl_schema(&p->dl_schema, err)))
        goto fail;
    if ((rc = build_groups(p, err))) goto fail;
    return SL_OK;
fail:
    sl_pipeline_free(p);
    return rc;
}

void sl_pipeline_free(sl_pipeline *p)
{
    for (int32_t i = 0; i < p->n_streams; i++) {
        sl_stream *st = &p->streams[i];
        sl_schema_free(&st->emit_schema);
        sl_schema_free(&st->out_schema);
        free(st->out_leaf);
        free(st->kafka_keep);
        sl_filter_free(st->filter);
        tpl_free(&st->tpl);
        tpl_free(&st->late_tpl);
    }
    for (int32_t i = 0; i < p->n_groups; i++) {
        free(p->groups[i].table);
        free(p->groups[i].num_keys);
    }
    for (int32_t i = 0; i < p->n_plans; i++) {
        sl_plan_free(&p->plans[i]);
        free(p->plan_msg[i]);
    }
    sl_schema_free(&p->dl_schema);
    free(p->groups);
    free(p->plans);
    free(p->plan_msg);
    free(p->streams);
    sl_pb_pool_free(&p->pool);
    memset(p, 0, sizeof *p);
}
