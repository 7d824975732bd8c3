/* config_check.c - the rules of a pipeline file that involve more than one
 * key, and the resolution of each stream's event-time and commit values.
 *
 * config.c reads each scope's keys by the table; then sl_cfg_check_scope
 * runs the scope's rules here: routes, event time, delimited/batch options,
 * output kinds, dead letter, unique stream names, and (issue 4) the
 * commit.notify targets and the stream's watermark/commit values.
 *
 * Resolution: a stream's wm/commit members start as "not set" (negative
 * numbers, NULL lists and paths; sl_cfg_stream_unset) and the walk reads
 * `defaults:` before any stream, so when a stream is checked each unset
 * value is taken from the defaults, which already hold the built-in value
 * where `defaults:` is silent. A stream's notify list replaces the defaults
 * list entirely (a deep copy per stream, so each stream owns and frees its
 * own; lists are bounded by SL_CFG_MAX_NOTIFY, so the copies are at most
 * 16 x streams). late_path: the stream's, else the defaults', else the first
 * files output's path + "/_late" (NULL without a files output); late:
 * side-output with no late path is an error pointing at the stream's key or,
 * when inherited, at the stream and naming the defaults line.
 *
 * Invariants after a successful load: every stream's wm/commit value is
 * set and within the key's bounds; every notify entry has exactly the
 * sub-key of its kind (kafka: a legal topic name; webhook: an http(s) URL
 * with a host and no spaces; command: a non-empty command). Webhook URLs are
 * never echoed in errors (they often carry tokens).
 *
 * Not done here: checking that a notify topic exists or a webhook answers
 * (that needs the network, at run time), and the placeholders of late_path
 * (the engine compiles path templates, like output paths). Cost: linear in
 * the configuration, once per load.
 */
/* Key paths in messages are bounded (SL_CFG_PATH_MAX); truncation is intended. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/config_int.h"
#include "engine/http.h"

static const sl_ynode *AT(const sl_ynode **at, const char *path)
{
    int i = sl_cfg_key_find(path, strlen(path));
    return i >= 0 ? at[i] : NULL;
}

/* AT of the row scope + "." + leaf (scope is a generic path). */
static const sl_ynode *ATS(const sl_ynode **at, const char *scope, const char *leaf)
{
    char g[SL_CFG_PATH_MAX];
    snprintf(g, sizeof g, "%s.%s", scope, leaf);
    return AT(at, g);
}

static sl_err_t SL_PRINTF(7, 8) kerr(sl_cfg_pctx *p, const sl_ynode *at, int line, int col,
                                     const char *cpath, const char *leaf, const char *fmt, ...)
{
    char what[SL_ERRMSG_MAX], path[SL_CFG_PATH_MAX];
    sl_ynode where = {.line = line, .col = col};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(path, sizeof path, "%s%s%s", cpath, *cpath && *leaf ? "." : "", leaf);
    return sl_cfg_perr(p, at ? at : &where, SL_ERR_INVALID, path, "%s", what);
}

/* ---- event time and partition commit (issue 4) ---- */

void sl_cfg_stream_unset(sl_cfg_stream *st)
{
    st->wm.max_out_of_orderness_ms = -1;
    st->wm.idle_timeout_ms = -1;
    st->commit.delay_ms = -1;
    st->commit.success_file = -1;
    st->commit.compaction_target = -1;
    *(int *)&st->commit.late = -1; /* stored as int by the table, like every enum */
    st->commit.notify = NULL;      /* NULL: not set; [] is a non-NULL empty array */
    st->commit.n_notify = 0;
    st->commit.late_path = NULL;
}

/* A Kafka topic name: [A-Za-z0-9._-], 1..249 bytes, not "." or "..". */
static int topic_ok(const char *t)
{
    size_t n = strlen(t);
    if (!n || n > 249 || !strcmp(t, ".") || !strcmp(t, "..")) return 0;
    return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* http:// or https://, a host, no spaces or control characters. */
static int url_ok(const char *u)
{
    size_t skip = !strncasecmp(u, "http://", 7) ? 7 : !strncasecmp(u, "https://", 8) ? 8 : 0;
    if (!skip || !u[skip] || strchr("/?#:", u[skip])) return 0;
    for (const unsigned char *q = (const unsigned char *)u; *q; q++)
        if (*q <= 0x20 || *q == 0x7f) return 0;
    return 1;
}

/* One commit.notify entry: exactly the sub-key of its kind. */
static sl_err_t check_notify(sl_cfg_pctx *p, const char *scope, const char *cp, sl_cfg_notify *n,
                             const sl_ynode **at)
{
    static const char *const kinds[] = {"kafka", "webhook", "command"};
    static const char *const leafs[] = {"topic", "url", "run"};
    static const char *const want[] = {
        "expected the topic to write partition events to",
        "expected an http:// or https:// URL to POST partition events to",
        "expected a shell command, run with the partition's details in environment variables"};
    const char *val[] = {n->topic, n->url, n->run};
    int kind = (int)n->kind;
    for (int i = 0; i < 3; i++) {
        const sl_ynode *v = ATS(at, scope, leafs[i]);
        if (v && i != kind)
            return kerr(p, v, 0, 0, cp, leafs[i], "applies to kind %s only; remove it", kinds[i]);
    }
    if (kind < 0 || kind > 2) /* cannot happen: the table allows three values */
        return kerr(p, NULL, n->line, n->col, cp, "kind", "internal: kind %d", kind);
    if (!val[kind])
        return kerr(p, NULL, n->line, n->col, cp, leafs[kind],
                    "required key is missing for kind %s; %s", kinds[kind], want[kind]);
    if (kind == SL_NOTIFY_KAFKA && !topic_ok(n->topic))
        return kerr(p, ATS(at, scope, "topic"), 0, 0, cp, "topic",
                    "'%.64s' is not a valid Kafka topic name; expected 1 to 249 of "
                    "[A-Za-z0-9._-]",
                    n->topic);
    if (kind == SL_NOTIFY_WEBHOOK && !url_ok(n->url))
        return kerr(p, ATS(at, scope, "url"), 0, 0, cp, "url",
                    "not a valid webhook URL; expected http://HOST[:PORT][/PATH] or https://..., "
                    "without spaces or control characters (percent-encode them)");
    return SL_OK;
}

static int same_str(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* A target listed twice would be notified twice: refuse it. `owner` is the
 * path of the mapping holding commit (streams[i] or defaults). */
static sl_err_t notify_dups(sl_cfg_pctx *p, const char *owner, const sl_cfg_notify *l, int n)
{
    char cp[SL_CFG_PATH_MAX];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (l[i].kind == l[j].kind && same_str(l[i].topic, l[j].topic) &&
                same_str(l[i].url, l[j].url) && same_str(l[i].run, l[j].run)) {
                snprintf(cp, sizeof cp, "%s.commit.notify[%d]", owner, i);
                return kerr(p, NULL, l[i].line, l[i].col, cp, "",
                            "the same target as notify[%d] (line %d); list each target once", j,
                            l[j].line);
            }
    return SL_OK;
}

static char *dup_or_null(const char *s, int *fail)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d) *fail = 1;
    return d;
}

/* Fill the stream's unset wm/commit values (see the comment at the top). */
static sl_err_t resolve_stream(sl_cfg_pctx *p, const char *cp, sl_cfg_stream *st,
                               const sl_ynode **at)
{
    const sl_cfg_stream *d = &p->cfg->defaults;
    int fail = 0;
    if (st->wm.max_out_of_orderness_ms < 0)
        st->wm.max_out_of_orderness_ms = d->wm.max_out_of_orderness_ms;
    if (st->wm.idle_timeout_ms < 0) st->wm.idle_timeout_ms = d->wm.idle_timeout_ms;
    if (st->commit.delay_ms < 0) st->commit.delay_ms = d->commit.delay_ms;
    if (st->commit.success_file < 0) st->commit.success_file = d->commit.success_file;
    if (st->commit.compaction_target < 0)
        st->commit.compaction_target = d->commit.compaction_target;
    int late_inherited = (int)st->commit.late < 0;
    if (late_inherited) st->commit.late = d->commit.late;
    if (!st->commit.notify && d->commit.notify) {
        int n = d->commit.n_notify;
        sl_cfg_notify *l = calloc(n ? (size_t)n : 1, sizeof *l);
        if (!l) return sl_cfg_nomem(p);
        st->commit.notify = l; /* owned by the stream from here: freed with it on error */
        st->commit.n_notify = n;
        for (int i = 0; i < n; i++) {
            const sl_cfg_notify *s = &d->commit.notify[i];
            l[i].line = s->line;
            l[i].col = s->col;
            l[i].kind = s->kind;
            l[i].topic = dup_or_null(s->topic, &fail);
            l[i].url = dup_or_null(s->url, &fail);
            l[i].run = dup_or_null(s->run, &fail);
        }
    }
    if (!st->commit.late_path && d->commit.late_path) {
        st->commit.late_path = dup_or_null(d->commit.late_path, &fail);
    } else if (!st->commit.late_path) {
        for (int i = 0; i < st->n_outputs; i++) {
            if (st->outputs[i].kind != SL_OUT_FILES || !st->outputs[i].path) continue;
            size_t n = strlen(st->outputs[i].path) + sizeof "/_late";
            if (!(st->commit.late_path = malloc(n))) return sl_cfg_nomem(p);
            snprintf(st->commit.late_path, n, "%s/_late", st->outputs[i].path);
            break;
        }
    }
    if (fail) return sl_cfg_nomem(p);
    if (st->commit.late == SL_LATE_SIDE_OUTPUT && !st->commit.late_path) {
        const sl_ynode *own = AT(at, "streams[].commit.late");
        const sl_ynode *dl = p->root_at ? AT(p->root_at, "defaults.commit.late") : NULL;
        if (!late_inherited)
            return kerr(p, own, 0, 0, cp, "commit.late",
                        "side-output needs a place for late records, and the stream has no files "
                        "output; set commit.late_path or choose drop or reopen");
        return kerr(p, NULL, st->line, st->col, cp, "commit.late",
                    "side-output (from defaults.commit.late, line %d) needs a place for late "
                    "records, and the stream has no files output; set commit.late_path or "
                    "commit.late for this stream",
                    dl ? dl->line : 0);
    }
    return SL_OK;
}

/* ---- the rules of each scope ---- */

static sl_err_t check_stream(sl_cfg_pctx *p, const char *cp, sl_cfg_stream *st, const sl_ynode **at)
{
    const sl_ynode *route = AT(at, "streams[].route"), *kts;
    if (route && st->route.kind == SL_ROUTE_ALL)
        return kerr(p, route, 0, 0, cp, "route",
                    "expected a mapping with one of field, header, topic (and equals)");
    if ((st->route.kind == SL_ROUTE_FIELD || st->route.kind == SL_ROUTE_HEADER) &&
        !st->route.equals)
        return kerr(p, route, 0, 0, cp, "route.equals",
                    "required key is missing with route.%s; expected the value to compare with",
                    st->route.kind == SL_ROUTE_FIELD ? "field" : "header");
    if (st->route.kind == SL_ROUTE_TOPIC && st->route.equals)
        return kerr(p, AT(at, "streams[].route.equals"), 0, 0, cp, "route.equals",
                    "does not apply to a topic route; remove it");
    if ((kts = AT(at, "streams[].event_time.kafka_timestamp"))) {
        int on = !strcasecmp(kts->text, "true") || !strcasecmp(kts->text, "yes") ||
                 !strcasecmp(kts->text, "on");
        if (on && st->event_time.field)
            return kerr(p, kts, 0, 0, cp, "event_time.kafka_timestamp",
                        "true excludes event_time.field; remove one of them");
        if (!on && !st->event_time.field)
            return kerr(p, kts, 0, 0, cp, "event_time.kafka_timestamp",
                        "false needs event_time.field; name the field holding the event time");
    }
    if (AT(at, "streams[].event_time.unit") && !st->event_time.field)
        return kerr(p, AT(at, "streams[].event_time.unit"), 0, 0, cp, "event_time.unit",
                    "applies to event_time.field, which is not set; set field or remove unit");
    if (AT(at, "streams[].separator") && st->format != SL_IN_DELIMITED)
        return kerr(p, AT(at, "streams[].separator"), 0, 0, cp, "separator",
                    "applies to format: delimited only; remove it");
    if (AT(at, "streams[].null") && st->format != SL_IN_DELIMITED)
        return kerr(p, AT(at, "streams[].null"), 0, 0, cp, "null",
                    "applies to format: delimited only; remove it");
    if (strlen(st->separator) != 1)
        return kerr(p, AT(at, "streams[].separator"), st->line, st->col, cp, "separator",
                    "expected exactly one byte, such as \"\\t\" or \",\"");
    if (AT(at, "streams[].batch_compression") && st->framing != SL_FRAMING_BATCH)
        return kerr(p, AT(at, "streams[].batch_compression"), 0, 0, cp, "batch_compression",
                    "applies to framing: batch only; remove it or set framing: batch");
    for (int i = 0; i < st->etl.n_columns; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(st->etl.columns[i], st->etl.columns[j]))
                return kerr(p, AT(at, "streams[].etl.columns"), 0, 0, cp, "etl.columns",
                            "'%.64s' is listed twice; list each column once", st->etl.columns[i]);
    sl_err_t rc = notify_dups(p, cp, st->commit.notify, st->commit.n_notify);
    return rc ? rc : resolve_stream(p, cp, st, at);
}

static sl_err_t check_output(sl_cfg_pctx *p, const char *cp, sl_cfg_output *o, const sl_ynode **at)
{
    const sl_ynode *fmt = AT(at, "streams[].outputs[].format");
    const sl_ynode *comp = AT(at, "streams[].outputs[].compression");
    const sl_ynode *path = AT(at, "streams[].outputs[].path");
    const sl_ynode *topic = AT(at, "streams[].outputs[].topic");
    if (o->kind == SL_OUT_FILES) {
        if (!o->path)
            return kerr(p, NULL, o->line, o->col, cp, "path",
                        "required key is missing for kind files; expected a directory template "
                        "such as ./lake/{stream}/dt={date}/hour={hour}");
        if (topic)
            return kerr(p, topic, 0, 0, cp, "topic", "applies to kind kafka only; remove it");
        if (!fmt) o->format = SL_OUTF_PARQUET;
        if (o->format != SL_OUTF_PARQUET && o->format != SL_OUTF_JSONL)
            return kerr(p, fmt, 0, 0, cp, "format", "is for kind kafka; expected parquet or jsonl");
        if (comp && o->format != SL_OUTF_PARQUET)
            return kerr(p, comp, 0, 0, cp, "compression",
                        "applies to format parquet only; remove it");
        if (o->format != SL_OUTF_PARQUET) {
            free(o->compression);
            o->compression = NULL;
        }
        return SL_OK;
    }
    if (!o->topic)
        return kerr(p, NULL, o->line, o->col, cp, "topic",
                    "required key is missing for kind kafka; expected the topic to write");
    if (path) return kerr(p, path, 0, 0, cp, "path", "applies to kind files only; remove it");
    if (comp)
        return kerr(p, comp, 0, 0, cp, "compression",
                    "applies to kind files only (the producer's compression is a property)");
    if (!fmt) o->format = SL_OUTF_PROTOBUF;
    if (o->format != SL_OUTF_PROTOBUF && o->format != SL_OUTF_PASSTHROUGH)
        return kerr(p, fmt, 0, 0, cp, "format",
                    "is for kind files; expected protobuf or passthrough");
    free(o->compression);
    o->compression = NULL;
    return SL_OK;
}

static sl_err_t check_root(sl_cfg_pctx *p, const sl_ynode *node, sl_cfg *c, const sl_ynode **at)
{
    char cp[SL_CFG_PATH_MAX];
    const sl_cfg_stream *d = &p->cfg->defaults;
    sl_err_t rc = notify_dups(p, "defaults", d->commit.notify, d->commit.n_notify);
    if (rc) return rc;
    if (!c->source.group) {
        size_t n = strlen(c->pipeline) + 8;
        if (!(c->source.group = malloc(n))) return sl_cfg_nomem(p);
        snprintf(c->source.group, n, "sluice-%s", c->pipeline);
    }
    if (c->dead_letter.kind == SL_OUT_KAFKA) {
        const sl_ynode *dl = AT(at, "dead_letter");
        if (!c->dead_letter.topic)
            return kerr(p, dl ? dl : node, 0, 0, "dead_letter", "topic",
                        "required key is missing for kind kafka; expected a topic name");
        if (AT(at, "dead_letter.path"))
            return kerr(p, AT(at, "dead_letter.path"), 0, 0, "dead_letter", "path",
                        "applies to kind files only; remove it");
        if (AT(at, "dead_letter.format"))
            return kerr(p, AT(at, "dead_letter.format"), 0, 0, "dead_letter", "format",
                        "applies to kind files only; remove it");
        free(c->dead_letter.path);
        c->dead_letter.path = NULL;
        c->dead_letter.format = (sl_out_format)-1; /* none (not shown by the dump) */
    } else if (AT(at, "dead_letter.topic")) {
        return kerr(p, AT(at, "dead_letter.topic"), 0, 0, "dead_letter", "topic",
                    "applies to kind kafka only; remove it or set kind: kafka");
    } else if (!AT(at, "dead_letter.format")) {
        c->dead_letter.format = SL_OUTF_PARQUET;
    } else if (c->dead_letter.format != SL_OUTF_PARQUET && c->dead_letter.format != SL_OUTF_JSONL) {
        return kerr(p, AT(at, "dead_letter.format"), 0, 0, "dead_letter", "format",
                    "expected parquet or jsonl");
    }
    if (!c->audit.path) {
        size_t n = strlen(c->state_dir) + 8;
        if (!(c->audit.path = malloc(n))) return sl_cfg_nomem(p);
        snprintf(c->audit.path, n, "%s/audit", c->state_dir);
    }
    if (c->http.listen) {
        char host[256];
        int port;
        sl_error e;
        if (sl_http_parse_listen(c->http.listen, host, sizeof host, &port, &e))
            return kerr(p, AT(at, "http.listen"), 0, 0, "http", "listen", "%s", e.msg);
    } else if (AT(at, "http.token_file")) {
        return kerr(p, AT(at, "http.token_file"), 0, 0, "http", "token_file",
                    "applies with http.listen only; add listen or remove it");
    }
    for (int i = 0; i < c->n_streams; i++) {
        const sl_cfg_stream *st = &c->streams[i];
        snprintf(cp, sizeof cp, "streams[%d]", i);
        for (int j = 0; j < i; j++)
            if (!strcmp(st->name, c->streams[j].name))
                return kerr(p, NULL, st->line, st->col, cp, "name",
                            "'%s' is also the name of streams[%d] (line %d); names must be unique",
                            st->name, j, c->streams[j].line);
        if (c->n_streams > 1 && st->route.kind == SL_ROUTE_ALL)
            return kerr(p, NULL, st->line, st->col, cp, "route",
                        "required when the pipeline has more than one stream; expected a mapping "
                        "with one of field, header, topic (and equals)");
        if (st->route.kind == SL_ROUTE_TOPIC) {
            int found = 0;
            for (int t = 0; t < c->source.n_topics; t++)
                found |= !strcmp(c->source.topics[t], st->route.name);
            if (!found)
                return kerr(p, NULL, st->route.line, st->route.col, cp, "route.topic",
                            "'%.64s' is not one of source.topics; add it there or fix the name",
                            st->route.name);
        }
    }
    return SL_OK;
}

sl_err_t sl_cfg_check_scope(sl_cfg_pctx *p, const sl_ynode *node, const char *scope,
                            const char *cpath, void *base, const sl_ynode **at)
{
    if (!*scope) return check_root(p, node, base, at);
    if (!strcmp(scope, "streams[]")) return check_stream(p, cpath, base, at);
    if (!strcmp(scope, "streams[].outputs[]")) return check_output(p, cpath, base, at);
    if (!strcmp(scope, "defaults.commit.notify[]") || !strcmp(scope, "streams[].commit.notify[]"))
        return check_notify(p, scope, cpath, base, at);
    return SL_OK;
}
