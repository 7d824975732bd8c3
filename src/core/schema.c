/* schema.c - building, levelling and fingerprinting the columnar schema.
 * See schema.h for the invariants (pre-order, contiguous leaf ranges). */
#include "core/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sl_err_t sl_schema_init(sl_schema *s, const char *root_name)
{
    memset(s, 0, sizeof *s);
    s->nodes = calloc(16, sizeof *s->nodes);
    if (!s->nodes) return SL_ERR_NOMEM;
    s->cap_nodes = 16;
    sl_node *r = &s->nodes[0];
    r->name = strdup(root_name ? root_name : "schema");
    if (!r->name) return SL_ERR_NOMEM;
    r->is_group = 1;
    r->rep = SL_REQUIRED;
    r->parent = -1;
    r->leaf = -1;
    r->field_id = -1;
    s->n_nodes = 1;
    return SL_OK;
}

void sl_schema_free(sl_schema *s)
{
    if (!s) return;
    for (int32_t i = 0; i < s->n_nodes; i++) {
        free(s->nodes[i].name);
        free(s->nodes[i].children);
    }
    free(s->nodes);
    free(s->leaves);
    free(s->message_name);
    memset(s, 0, sizeof *s);
}

/* The node that a new child may hang under: pre-order means the parent is
 * an ancestor-or-self of the last added node. */
static int on_current_path(const sl_schema *s, int32_t parent)
{
    for (int32_t n = s->n_nodes - 1; n >= 0; n = s->nodes[n].parent)
        if (n == parent) return 1;
    return 0;
}

int32_t sl_schema_add(sl_schema *s, int32_t parent, const char *name, sl_repetition_t rep,
                      int is_group, sl_ptype_t ptype, sl_logical logical, int32_t field_id)
{
    if (s->finished || parent < 0 || parent >= s->n_nodes || !s->nodes[parent].is_group ||
        !on_current_path(s, parent))
        return SL_ERR_INVALID;
    if (s->n_nodes == s->cap_nodes) {
        if (s->cap_nodes > (1 << 24)) return SL_ERR_LIMIT;
        sl_node *n = realloc(s->nodes, (size_t)s->cap_nodes * 2 * sizeof *n);
        if (!n) return SL_ERR_NOMEM;
        s->nodes = n;
        s->cap_nodes *= 2;
    }
    sl_node *p = &s->nodes[parent];
    int32_t *ch = realloc(p->children, (size_t)(p->n_children + 1) * sizeof *ch);
    if (!ch) return SL_ERR_NOMEM;
    p->children = ch;
    int32_t idx = s->n_nodes;
    sl_node *n = &s->nodes[idx];
    memset(n, 0, sizeof *n);
    n->name = strdup(name);
    if (!n->name) return SL_ERR_NOMEM;
    p->children[p->n_children++] = idx;
    n->rep = (uint8_t)rep;
    n->is_group = is_group ? 1 : 0;
    n->ptype = is_group ? 0 : (uint8_t)ptype;
    n->logical = logical;
    n->field_id = field_id;
    n->parent = parent;
    n->leaf = -1;
    s->n_nodes++;
    return idx;
}

sl_err_t sl_schema_finish(sl_schema *s, sl_error *err)
{
    int32_t nl = 0;
    for (int32_t i = 0; i < s->n_nodes; i++)
        if (!s->nodes[i].is_group) nl++;
    free(s->leaves);
    s->leaves = malloc((size_t)(nl ? nl : 1) * sizeof *s->leaves);
    if (!s->leaves) return sl_error_set(err, SL_ERR_NOMEM, "schema: out of memory");
    s->n_leaves = 0;
    for (int32_t i = 0; i < s->n_nodes; i++) {
        sl_node *n = &s->nodes[i];
        if (i == 0) {
            n->max_def = n->max_rep = 0;
        } else {
            const sl_node *p = &s->nodes[n->parent];
            n->max_def = (int16_t)(p->max_def + (n->rep != SL_REQUIRED));
            n->max_rep = (int16_t)(p->max_rep + (n->rep == SL_REPEATED));
            if (n->max_def > SL_MAX_LEVEL) {
                char path[256];
                return sl_error_set(err, SL_ERR_SCHEMA,
                                    "schema: %s is nested deeper than %d optional/repeated "
                                    "levels; flatten the message or project fewer fields",
                                    sl_schema_path(s, i, path, sizeof path), SL_MAX_LEVEL);
            }
        }
        n->first_leaf = s->n_leaves;
        n->n_leaves = 0;
        if (!n->is_group) {
            n->leaf = s->n_leaves;
            s->leaves[s->n_leaves++] = i;
            for (int32_t a = i; a >= 0; a = s->nodes[a].parent)
                s->nodes[a].n_leaves++;
        } else if (i > 0 && n->n_children == 0) {
            char path[256];
            return sl_error_set(err, SL_ERR_SCHEMA,
                                "schema: group %s has no fields; Parquet cannot store an "
                                "empty group",
                                sl_schema_path(s, i, path, sizeof path));
        }
    }
    if (s->n_leaves == 0)
        return sl_error_set(err, SL_ERR_SCHEMA, "schema: no columns (the message has no fields)");
    s->finished = 1;
    return SL_OK;
}

char *sl_schema_path(const sl_schema *s, int32_t node, char *out, size_t cap)
{
    int32_t chain[SL_MAX_LEVEL * 2 + 8];
    int depth = 0;
    for (int32_t n = node; n > 0 && depth < (int)(sizeof chain / sizeof chain[0]);
         n = s->nodes[n].parent)
        chain[depth++] = n;
    size_t len = 0;
    if (cap) out[0] = '\0';
    for (int d = depth - 1; d >= 0 && cap; d--) {
        int w = snprintf(out + len, cap - len, "%s%s", d == depth - 1 ? "" : ".",
                         s->nodes[chain[d]].name);
        if (w < 0 || (size_t)w >= cap - len) break;
        len += (size_t)w;
    }
    return out;
}

int32_t sl_schema_find(const sl_schema *s, const char *path)
{
    char buf[1024];
    for (int32_t i = 1; i < s->n_nodes; i++)
        if (!strcmp(sl_schema_path(s, i, buf, sizeof buf), path)) return i;
    return -1;
}

/* FNV-1a, 64-bit: stable, dependency-free; not for security. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t sl_schema_fingerprint(const sl_schema *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (int32_t i = 0; i < s->n_nodes; i++) {
        const sl_node *n = &s->nodes[i];
        uint8_t t[9] = {n->rep,          n->is_group,          n->ptype,
                        n->logical.kind, n->logical.bit_width, n->logical.is_signed,
                        n->logical.unit, n->logical.utc,       (uint8_t)n->n_children};
        h = fnv(h, n->name, strlen(n->name) + 1);
        h = fnv(h, t, sizeof t);
    }
    return h;
}

sl_err_t sl_schema_copy(sl_schema *dst, const sl_schema *src)
{
    memset(dst, 0, sizeof *dst);
    dst->nodes = calloc((size_t)src->n_nodes, sizeof *dst->nodes);
    dst->leaves = malloc((size_t)(src->n_leaves ? src->n_leaves : 1) * sizeof *dst->leaves);
    if (!dst->nodes || !dst->leaves) goto fail;
    dst->cap_nodes = dst->n_nodes = src->n_nodes;
    dst->n_leaves = src->n_leaves;
    dst->finished = src->finished;
    memcpy(dst->leaves, src->leaves, (size_t)src->n_leaves * sizeof *dst->leaves);
    for (int32_t i = 0; i < src->n_nodes; i++) {
        dst->nodes[i] = src->nodes[i];
        dst->nodes[i].name = strdup(src->nodes[i].name);
        dst->nodes[i].children = NULL;
        if (!dst->nodes[i].name) goto fail;
        if (src->nodes[i].n_children) {
            size_t sz = (size_t)src->nodes[i].n_children * sizeof(int32_t);
            dst->nodes[i].children = malloc(sz);
            if (!dst->nodes[i].children) goto fail;
            memcpy(dst->nodes[i].children, src->nodes[i].children, sz);
        }
    }
    if (src->message_name && !(dst->message_name = strdup(src->message_name))) goto fail;
    return SL_OK;
fail:
    sl_schema_free(dst);
    return SL_ERR_NOMEM;
}
