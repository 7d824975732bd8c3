/* pb_path.c - dotted field paths and reading values back from a parsed
 * record (sl_rec), for routing by field, event time and filters.
 *
 * A path is resolved once (names to field indexes); reading walks the
 * scratch frames directly, a few loads per step, so a filter on a parsed
 * record costs nanoseconds and never touches the column builders.
 */
#include <string.h>

#include "formats/pb/pb_rec_int.h"

sl_err_t sl_path_resolve(sl_path *out, const sl_plan *p, const char *dotted, sl_error *err)
{
    memset(out, 0, sizeof(*out));
    int32_t m = 0;
    const char *s = dotted;
    for (;;) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        if (len == 0)
            return sl_error_set(err, SL_ERR_INVALID, "field path '%s': empty name", dotted);
        if (out->n == SL_PATH_MAX_DEPTH)
            return sl_error_set(err, SL_ERR_LIMIT, "field path '%s': deeper than %d", dotted,
                                SL_PATH_MAX_DEPTH);
        int32_t f = sl_plan_field_by_name(p, m, s, len);
        if (f < 0)
            return sl_error_set(err, SL_ERR_NOTFOUND,
                                "field path '%s': message %s has no field '%.*s'", dotted,
                                p->msgs[m].pm->full_name, (int)len, s);
        const sl_plan_field *pf = &p->msgs[m].fields[f];
        if (pf->repeated)
            return sl_error_set(
                err, SL_ERR_INVALID,
                "field path '%s': '%.*s' is repeated or a map; a path must name one value", dotted,
                (int)len, s);
        out->msg[out->n] = m;
        out->field[out->n] = f;
        out->n++;
        out->leaf = pf;
        if (!dot) break;
        if (pf->child < 0)
            return sl_error_set(err, SL_ERR_INVALID, "field path '%s': '%.*s' is not a message",
                                dotted, (int)len, s);
        m = pf->child;
        s = dot + 1;
    }
    return SL_OK;
}

int sl_path_get(const sl_rec *r, const sl_path *path, sl_val *v)
{
    int32_t frame = 0;
    memset(v, 0, sizeof(*v));
    for (int32_t i = 0; i < path->n; i++) {
        const sl_plan_field *pf = &r->p->msgs[path->msg[i]].fields[path->field[i]];
        const sl_rec_slot *s = &r->slots[r->frames[frame].base + (uint32_t)path->field[i]];
        if (pf->child >= 0) {
            if (!s->h) return -1;
            frame = (int32_t)s->h - 1;
            continue;
        }
        if (s->h) {
            *v = s->v;
            return 1;
        }
        if (pf->presence) return -1;
        *v = pf->dflt;
        return 0;
    }
    return 1; /* a message leaf that is present */
}
