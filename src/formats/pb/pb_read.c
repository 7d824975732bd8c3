/* pb_read.c - reading a whole parsed record back (pb_read.h): thin,
 * bounds-checked accessors over the record scratch layout of
 * pb_rec_int.h, so code outside src/formats/pb never sees the slots and
 * items. Each call is a few loads; nothing allocates.
 */
#include "formats/pb/pb_read.h"

#include "formats/pb/pb_rec_int.h"

static const sl_rec_slot *slot(const sl_rec *r, int32_t frame, int32_t field)
{
    if (frame < 0 || (uint32_t)frame >= r->n_frames) return NULL;
    if (field < 0 || field >= r->p->msgs[r->frames[frame].msg].n_fields) return NULL;
    return &r->slots[r->frames[frame].base + (uint32_t)field];
}

int32_t sl_rec_frame_msg(const sl_rec *r, int32_t frame)
{
    if (frame < 0 || (uint32_t)frame >= r->n_frames) return -1;
    return r->frames[frame].msg;
}

int sl_rec_get(const sl_rec *r, int32_t frame, int32_t field, sl_val *v)
{
    const sl_rec_slot *s = slot(r, frame, field);
    const sl_plan_field *pf = s ? &r->p->msgs[r->frames[frame].msg].fields[field] : NULL;
    if (!s || pf->repeated || pf->child >= 0 || !s->h) return 0;
    *v = s->v;
    return 1;
}

int32_t sl_rec_get_sub(const sl_rec *r, int32_t frame, int32_t field)
{
    const sl_rec_slot *s = slot(r, frame, field);
    const sl_plan_field *pf = s ? &r->p->msgs[r->frames[frame].msg].fields[field] : NULL;
    if (!s || pf->repeated || pf->child < 0 || !s->h) return -1;
    return (int32_t)s->h - 1;
}

uint32_t sl_rec_count(const sl_rec *r, int32_t frame, int32_t field)
{
    const sl_rec_slot *s = slot(r, frame, field);
    if (!s || !r->p->msgs[r->frames[frame].msg].fields[field].repeated || !s->h) return 0;
    return (uint32_t)s->v.u;
}

uint32_t sl_rec_first(const sl_rec *r, int32_t frame, int32_t field)
{
    const sl_rec_slot *s = slot(r, frame, field);
    if (!s || !r->p->msgs[r->frames[frame].msg].fields[field].repeated) return 0;
    return s->h;
}

int sl_rec_next_item(const sl_rec *r, uint32_t *it, sl_val *v)
{
    if (*it == 0 || *it > r->n_items) return 0;
    const sl_rec_item *item = &r->items[*it - 1];
    *v = item->v;
    *it = item->next;
    return 1;
}

int sl_rec_enum_lookup(const sl_rec *r, const sl_pb_enum *e, int32_t num, const char **name,
                       uint32_t *len)
{
    return sl_rec_enum_name(sl_rec_enum_of(r, e), num, name, len);
}
