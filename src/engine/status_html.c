/* status_html.c - a snapshot (status.h) as the status page served at GET /.
 *
 * One server-rendered HTML document, no JavaScript, no external resource
 * (the styles are inline), refreshed by the browser every 5 s
 * (<meta http-equiv=refresh>). What an on-call engineer reads first comes
 * first: the state (and the error while retrying), the last checkpoint and
 * its age, the total lag; then a table of streams and one of input
 * partitions. Every string from the snapshot goes through esc() (& < > " '),
 * so a stream, topic or error text can never inject markup.
 */
#include <inttypes.h>
#include <stdio.h>

#include "engine/status.h"

static sl_err_t esc(sl_buf *b, const char *v)
{
    sl_err_t rc = SL_OK;
    for (; v && *v && !rc; v++) {
        switch (*v) {
        case '&':
            rc = sl_buf_append(b, "&amp;", 5);
            break;
        case '<':
            rc = sl_buf_append(b, "&lt;", 4);
            break;
        case '>':
            rc = sl_buf_append(b, "&gt;", 4);
            break;
        case '"':
            rc = sl_buf_append(b, "&quot;", 6);
            break;
        case '\'':
            rc = sl_buf_append(b, "&#39;", 5);
            break;
        default:
            rc = sl_buf_put_u8(b, (uint8_t)*v);
        }
    }
    return rc;
}

/* <td>text</td> with the text escaped; cls adds a class ("n": a number). */
static sl_err_t td(sl_buf *b, const char *cls, const char *text)
{
    sl_err_t rc = cls ? sl_buf_printf(b, "<td class=%s>", cls) : sl_buf_append(b, "<td>", 4);
    if (!rc) rc = esc(b, text);
    if (!rc) rc = sl_buf_append(b, "</td>", 5);
    return rc;
}

static sl_err_t td_i(sl_buf *b, int64_t x, int64_t unknown)
{
    char v[32];
    if (x == unknown)
        snprintf(v, sizeof v, "-");
    else
        snprintf(v, sizeof v, "%" PRId64, x);
    return td(b, "n", v);
}

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:left}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#f3f3f3}.st{padding:.2em .6em;border-radius:.3em;color:#fff}"
    ".running{background:#2a7d2a}.starting{background:#777}.retrying{background:#b3261e}"
    ".degraded{background:#b36b00}"
    "dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{color:#666}"
    "dd{margin:0}.err{color:#b3261e}";

static sl_err_t summary(sl_buf *b, const sl_snap *s)
{
    char t[32], v[96];
    const char *st = sl_snap_state_name(s->state);
    sl_err_t rc = sl_buf_printf(b, "<h1>sluice: ");
    if (!rc) rc = esc(b, s->pipeline);
    if (!rc) rc = sl_buf_printf(b, " <span class=\"st %s\" id=state>%s</span></h1>\n<dl>", st, st);
    if (!rc && s->state == SL_SNAP_RETRYING) {
        sl_status_fmt_time(t, sizeof t, s->next_retry_ms);
        rc = sl_buf_printf(b, "<dt>failure</dt><dd class=err>");
        if (!rc) rc = esc(b, s->error ? s->error : "?");
        if (!rc) rc = sl_buf_printf(b, " (next attempt at %s)</dd>", t);
    }
    if (!rc && s->state == SL_SNAP_DEGRADED) {
        rc = sl_buf_printf(b, "<dt>output failing</dt><dd class=err>");
        if (!rc) rc = esc(b, s->error ? s->error : "?");
        if (!rc) rc = sl_buf_printf(b, " (the partitions feeding it are paused and retried)</dd>");
    }
    sl_status_fmt_time(t, sizeof t, s->ckpt.last ? s->ckpt.last_time_ms : INT64_MIN);
    if (!rc && s->ckpt.last)
        rc = sl_buf_printf(
            b,
            "<dt>last checkpoint</dt><dd>%" PRIu64 " at %s (%" PRId64 " s ago), took %.3f s</dd>",
            s->ckpt.last, t, (s->time_ms - s->ckpt.last_time_ms) / 1000, s->ckpt.last_duration_s);
    else if (!rc)
        rc = sl_buf_printf(b, "<dt>last checkpoint</dt><dd>none yet</dd>");
    if (!rc)
        rc = sl_buf_printf(b,
                           "<dt>total lag</dt><dd id=lag>%" PRId64 " records</dd>"
                           "<dt>records in</dt><dd>%" PRId64 " (dead-lettered %" PRId64
                           ", unrouted %" PRId64 ")</dd>"
                           "<dt>checkpoints</dt><dd>%" PRId64 " (%" PRId64 " failed), %" PRId64
                           " retries</dd>"
                           "<dt>files</dt><dd>%" PRId64 " open, %" PRId64 " published</dd>",
                           s->lag, s->records_in, s->dead, s->unrouted, s->ckpt.total,
                           s->ckpt.failures, s->retries, s->open_files, s->files_published);
    int64_t up = (s->time_ms - s->start_ms) / 1000;
    snprintf(v, sizeof v, "%" PRId64 "h%02dm%02ds, pid %d, %d workers", up / 3600,
             (int)(up / 60 % 60), (int)(up % 60), s->pid, (int)s->workers);
    if (!rc) rc = sl_buf_printf(b, "<dt>up</dt><dd>%s</dd><dt>config</dt><dd>", v);
    if (!rc) rc = esc(b, s->config);
    sl_status_fmt_time(t, sizeof t, s->time_ms);
    if (!rc) rc = sl_buf_printf(b, "</dd><dt>as of</dt><dd>%s</dd></dl>\n", t);
    return rc;
}

static sl_err_t streams(sl_buf *b, const sl_snap *s)
{
    sl_err_t rc = sl_buf_printf(
        b, "<h2>Streams</h2>\n<table id=streams><tr><th>stream</th><th>records in</th>"
           "<th>out</th><th>filtered</th><th>dead-lettered</th><th>late</th>"
           "<th>watermark (UTC)</th><th>watermark lag (s)</th><th>open hours</th>"
           "<th>last committed hour (UTC)</th></tr>\n");
    for (int32_t i = 0; !rc && i < s->n_streams; i++) {
        const sl_snap_stream *st = &s->streams[i];
        char wm[32], lag[32], ch[32];
        sl_status_stream_times(s, st, wm, lag, ch);
        rc = sl_buf_append(b, "<tr>", 4);
        if (!rc) rc = td(b, NULL, st->name);
        if (!rc) rc = td_i(b, st->in, INT64_MIN);
        if (!rc) rc = td_i(b, st->out, INT64_MIN);
        if (!rc) rc = td_i(b, st->filtered, INT64_MIN);
        if (!rc) rc = td_i(b, st->dead, INT64_MIN);
        if (!rc) rc = td_i(b, st->late, INT64_MIN);
        if (!rc) rc = td(b, NULL, wm);
        if (!rc) rc = td(b, "n", lag);
        if (!rc) rc = td_i(b, st->open_hours, INT64_MIN);
        if (!rc) rc = td(b, NULL, ch);
        if (!rc) rc = sl_buf_append(b, "</tr>\n", 6);
    }
    if (!rc) rc = sl_buf_append(b, "</table>\n", 9);
    return rc;
}

static sl_err_t inputs(sl_buf *b, const sl_snap *s)
{
    sl_err_t rc = sl_buf_printf(
        b, "<h2>Input partitions</h2>\n<table id=inputs><tr><th>topic</th><th>partition</th>"
           "<th>worker</th><th>offset</th><th>high watermark</th><th>lag</th><th>idle</th>"
           "<th>paused</th></tr>\n");
    for (int32_t i = 0; !rc && i < s->n_inputs; i++) {
        const sl_snap_input *in = &s->inputs[i];
        rc = sl_buf_append(b, "<tr>", 4);
        if (!rc) rc = td(b, NULL, in->topic);
        if (!rc) rc = td_i(b, in->partition, INT64_MIN);
        if (!rc) rc = td_i(b, in->worker, INT64_MIN);
        if (!rc) rc = td_i(b, in->offset, -1);
        if (!rc) rc = td_i(b, in->high, -1);
        if (!rc) rc = td_i(b, in->lag, -1);
        if (!rc) rc = td(b, NULL, in->idle ? "yes" : "no");
        if (!rc) rc = td(b, in->paused ? "err" : NULL, in->paused ? "yes" : "no");
        if (!rc) rc = sl_buf_append(b, "</tr>\n", 6);
    }
    if (!rc) rc = sl_buf_append(b, "</table>\n", 9);
    return rc;
}

sl_err_t sl_status_html(const sl_snap *s, sl_buf *b)
{
    sl_err_t rc = sl_buf_printf(b, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
                                   "<meta http-equiv=refresh content=5><title>sluice: ");
    if (!rc) rc = esc(b, s->pipeline);
    if (!rc) rc = sl_buf_printf(b, "</title><style>%s</style></head><body>\n", style);
    if (!rc) rc = summary(b, s);
    if (!rc) rc = streams(b, s);
    if (!rc) rc = inputs(b, s);
    if (!rc)
        rc = sl_buf_printf(b,
                           "<p>sluice %s &middot; <a href=\"/metrics\">metrics</a> &middot; "
                           "<a href=\"/status\">status (JSON)</a></p>\n</body></html>\n",
                           SL_VERSION);
    return rc;
}
