/* config_yaml.c - pass 1 of reading a pipeline file: libyaml's event parser
 * builds a small tree of scalars, sequences and mappings, each node with its
 * 1-based line and column, for the table-driven walk of config.c.
 *
 * Anchors, aliases (and so merge keys) are rejected: an alias lets a few bytes
 * expand into a huge document ("billion laughs"), and a value written
 * elsewhere is harder to review. Scalars are kept as text with a flag telling
 * whether they were quoted; type resolution is left to the key table, so
 * `equals: 001000` stays the text 001000. The input is bounded (16 MiB, 64
 * levels, 1M nodes), so a hostile file costs bounded memory and time. One
 * document per file; a second one is an error.
 */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "engine/config_int.h"

typedef struct sl_yload {
    yaml_parser_t parser;
    const char *name;
    const char *text; /* the input, for positions of encoding errors */
    size_t len;
    sl_error *err;
    long nodes;
} sl_yload;

void sl_yn_free(sl_ynode *n)
{
    if (!n) return;
    for (int i = 0; i < n->n; i++)
        sl_yn_free(n->kids[i]);
    free(n->kids);
    free(n->text);
    free(n);
}

static sl_err_t y_next(sl_yload *y, yaml_event_t *ev)
{
    if (yaml_parser_parse(&y->parser, ev)) return SL_OK;
    if (y->parser.error == YAML_MEMORY_ERROR)
        return sl_error_set(y->err, SL_ERR_NOMEM, "%s: out of memory reading YAML", y->name);
    int line = (int)y->parser.problem_mark.line + 1, col = (int)y->parser.problem_mark.column + 1;
    if (y->parser.error == YAML_READER_ERROR) { /* only a byte offset: count lines ourselves */
        size_t off = y->parser.problem_offset < y->len ? y->parser.problem_offset : y->len;
        const char *nl = NULL;
        line = 1;
        for (const char *q = y->text; q < y->text + off; q++)
            if (*q == '\n') {
                line++;
                nl = q;
            }
        col = (int)(y->text + off - (nl ? nl + 1 : y->text)) + 1;
    }
    return sl_error_set(y->err, SL_ERR_INVALID, "%s:%d:%d: YAML syntax error: %s%s%s; fix the YAML",
                        y->name, line, col,
                        y->parser.problem ? y->parser.problem : "malformed input",
                        y->parser.context ? " " : "", y->parser.context ? y->parser.context : "");
}

/* Build the node of `ev` (and everything under it); always deletes `ev`. */
static sl_err_t y_build(sl_yload *y, yaml_event_t *ev, int depth, sl_ynode **out)
{
    sl_err_t rc = SL_OK;
    sl_ynode *n = NULL;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    const yaml_char_t *anchor =
        ev->type == YAML_SCALAR_EVENT           ? ev->data.scalar.anchor
        : ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
        : ev->type == YAML_MAPPING_START_EVENT  ? ev->data.mapping_start.anchor
                                                : NULL;
    *out = NULL;
    if (ev->type == YAML_ALIAS_EVENT || anchor) {
        rc = sl_error_set(y->err, SL_ERR_UNSUPPORTED,
                          "%s:%d:%d: YAML %s are not supported; write the value out in full",
                          y->name, line, col, anchor ? "anchors (&name)" : "aliases (*name)");
        goto fail;
    }
    if (depth > SL_CFG_MAX_DEPTH || ++y->nodes > SL_CFG_MAX_NODES) {
        rc = sl_error_set(y->err, SL_ERR_LIMIT,
                          "%s:%d:%d: the document is too big (more than %d levels or %d nodes)",
                          y->name, line, col, SL_CFG_MAX_DEPTH, SL_CFG_MAX_NODES);
        goto fail;
    }
    if (!(n = calloc(1, sizeof *n))) goto nomem;
    n->line = line;
    n->col = col;
    if (ev->type == YAML_SCALAR_EVENT) {
        size_t len = ev->data.scalar.length;
        n->type = SL_YN_SCALAR;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (memchr(ev->data.scalar.value, '\0', len)) {
            rc = sl_error_set(y->err, SL_ERR_INVALID,
                              "%s:%d:%d: a string contains a NUL character; remove it", y->name,
                              line, col);
            goto fail;
        }
        if (!(n->text = malloc(len + 1))) goto nomem;
        memcpy(n->text, ev->data.scalar.value, len);
        n->text[len] = '\0';
    } else if (ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT) {
        yaml_event_type_t end = ev->type == YAML_SEQUENCE_START_EVENT ? YAML_SEQUENCE_END_EVENT
                                                                      : YAML_MAPPING_END_EVENT;
        n->type = ev->type == YAML_SEQUENCE_START_EVENT ? SL_YN_SEQ : SL_YN_MAP;
        for (;;) {
            yaml_event_t cev;
            sl_ynode *kid;
            if ((rc = y_next(y, &cev))) goto fail;
            if (cev.type == end) {
                yaml_event_delete(&cev);
                break;
            }
            if ((rc = y_build(y, &cev, depth + 1, &kid))) goto fail;
            if (n->n == n->cap) {
                int cap = n->cap ? n->cap * 2 : 8;
                sl_ynode **k = realloc(n->kids, (size_t)cap * sizeof *k);
                if (!k) {
                    sl_yn_free(kid);
                    goto nomem;
                }
                n->kids = k;
                n->cap = cap;
            }
            n->kids[n->n++] = kid;
        }
    } else {
        rc = sl_error_set(y->err, SL_ERR_INVALID, "%s:%d:%d: unexpected YAML event %d", y->name,
                          line, col, (int)ev->type);
        goto fail;
    }
    yaml_event_delete(ev);
    *out = n;
    return SL_OK;
nomem:
    rc = sl_error_set(y->err, SL_ERR_NOMEM, "%s: out of memory reading YAML", y->name);
fail:
    yaml_event_delete(ev);
    sl_yn_free(n);
    return rc;
}

/* The one document of the text as a tree. */
sl_err_t sl_yn_load(const char *text, size_t len, const char *name, sl_ynode **root, sl_error *err)
{
    sl_yload y = {.name = name, .text = text, .len = len, .err = err};
    yaml_event_t ev;
    sl_err_t rc;
    *root = NULL;
    if (!yaml_parser_initialize(&y.parser))
        return sl_error_set(err, SL_ERR_NOMEM, "%s: out of memory", name);
    yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
    for (;;) { /* skip STREAM-START, DOCUMENT-START */
        if ((rc = y_next(&y, &ev))) goto out;
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            rc = sl_error_set(err, SL_ERR_INVALID,
                              "%s:1:1: the file is empty; expected a mapping with pipeline, "
                              "source, schemas and streams (see docs/config.md)",
                              name);
            goto out;
        }
        break;
    }
    if ((rc = y_build(&y, &ev, 0, root))) goto out;
    if ((rc = y_next(&y, &ev))) goto out; /* DOCUMENT-END */
    yaml_event_delete(&ev);
    if ((rc = y_next(&y, &ev))) goto out;
    if (ev.type != YAML_STREAM_END_EVENT)
        rc = sl_error_set(err, SL_ERR_INVALID,
                          "%s:%d:%d: a second YAML document; a pipeline file holds one document",
                          name, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1);
    yaml_event_delete(&ev);
out:
    if (rc) {
        sl_yn_free(*root);
        *root = NULL;
    }
    yaml_parser_delete(&y.parser);
    return rc;
}
