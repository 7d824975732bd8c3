/* convert.c - `sluice convert`: one input file to one Parquet file.
 *
 *   framer (records) -> decoder (plan: pb wire | JSON | delimited) -> batch
 *   -> Parquet writer -> atomic file (temp name, renamed at the end)
 *
 * The decoders shred straight into the batch's column builders; the batch
 * is handed to the writer every SL_CONVERT_BATCH_ROWS rows (or 8 MiB), so
 * memory is bounded by the writer's row group, not by the input.
 *
 * Bad records: a record that does not decode is, per --bad-records,
 *   fail         (default) the run stops with the error, no output is left;
 *   skip         counted, the first few reported on stderr;
 *   dead-letter  counted and written to FILE as JSON lines
 *                {"input","record","offset","reason","raw_base64"}, so they
 *                can be fixed and converted again.
 * A decoder leaves the batch untouched on error, so a bad record never
 * leaves half a row behind. SIGINT/SIGTERM abandon the run the same way as
 * an error: the temporary output is removed, exit status 130.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/base64.h"
#include "core/col.h"
#include "core/framer.h"
#include "core/ostream.h"
#include "core/units.h"
#include "formats/json/json_dec.h"
#include "formats/parquet/pq_writer.h"
#include "formats/pb/pb_desc.h"
#include "formats/pb/pb_plan.h"
#include "formats/text/delim.h"

#define SL_CONVERT_BATCH_ROWS  8192
#define SL_CONVERT_BATCH_BYTES ((size_t)8 << 20)
#define SL_CONVERT_REPORTED    5 /* bad records described on stderr under skip */

enum { IN_PB = 1, IN_JSONL, IN_DELIM };
enum { BAD_FAIL = 0, BAD_SKIP, BAD_DEAD_LETTER };

typedef struct convert_opts {
    const char *schema, *message, *input, *output, *dead_letter;
    int informat, bad, quiet, ignore_unknown;
    sl_pq_options pq;
    char separator;
    const char *null_token;
} convert_opts;

typedef struct convert_run {
    convert_opts o;
    sl_pb_pool pool;
    sl_plan plan;
    sl_batch batch;
    sl_rec *rec;
    sl_framer in;
    sl_atomic_file out, dl;
    int out_open, dl_open, in_open;
    sl_pq_writer *pw;
    sl_buf line; /* dead-letter line */
    uint64_t records, bad;
} convert_run;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sluice convert --schema SCHEMA --message NAME --input-format FORMAT\n"
            "                      --input IN --output OUT.parquet [options]\n"
            "\n"
            "  --schema FILE          .proto file (needs protoc on PATH) or a FileDescriptorSet\n"
            "                         (protoc --include_imports --descriptor_set_out)\n"
            "  --message NAME         full message name, e.g. bench.PlayEvent\n"
            "  --input-format FORMAT  pb-delimited | jsonl | delimited\n"
            "  --input FILE           input file, '-' for standard input\n"
            "  --output FILE          Parquet file to write (appears atomically at the end)\n"
            "  --compression CODEC    zstd (default) | snappy | gzip | lz4 | none\n"
            "  --level N              codec level (default: sluice's choice per codec)\n"
            "  --row-group-size SIZE  row group bound, uncompressed (default 128MiB)\n"
            "  --page-size SIZE       data page bound (default 1MiB)\n"
            "  --no-dictionary        PLAIN encoding only\n"
            "  --no-delta             PLAIN, not DELTA_*, for pages without a dictionary (readers\n"
            "                         without the DELTA encodings)\n"
            "  --separator C          delimited: field separator (default tab; \\t, ',' ...)\n"
            "  --null TOKEN           delimited: null token (default \\N)\n"
            "  --ignore-unknown       jsonl: ignore fields not in the schema\n"
            "  --bad-records POLICY   fail (default) | skip | dead-letter FILE\n"
            "  --quiet                no summary line\n");
}

static int fail_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "sluice convert: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see sluice convert --help)\n");
    return 2;
}

static int parse_args(convert_opts *o, int argc, char **argv)
{
    enum {
        O_SCHEMA = 256,
        O_MESSAGE,
        O_INFMT,
        O_INPUT,
        O_OUTPUT,
        O_COMP,
        O_LEVEL,
        O_RG,
        O_PAGE,
        O_NODICT,
        O_NODELTA,
        O_SEP,
        O_NULL,
        O_IGN,
        O_BAD,
        O_QUIET,
        O_HELP
    };
    static const struct option lo[] = {
        {"schema", required_argument, 0, O_SCHEMA},
        {"message", required_argument, 0, O_MESSAGE},
        {"input-format", required_argument, 0, O_INFMT},
        {"input", required_argument, 0, O_INPUT},
        {"output", required_argument, 0, O_OUTPUT},
        {"compression", required_argument, 0, O_COMP},
        {"level", required_argument, 0, O_LEVEL},
        {"row-group-size", required_argument, 0, O_RG},
        {"page-size", required_argument, 0, O_PAGE},
        {"no-dictionary", no_argument, 0, O_NODICT},
        {"no-delta", no_argument, 0, O_NODELTA},
        {"separator", required_argument, 0, O_SEP},
        {"null", required_argument, 0, O_NULL},
        {"ignore-unknown", no_argument, 0, O_IGN},
        {"bad-records", required_argument, 0, O_BAD},
        {"quiet", no_argument, 0, O_QUIET},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->pq.codec = SL_PQ_CODEC_ZSTD;
    o->separator = '\t';
    o->null_token = "\\N";
    opterr = 0;
    optind = 1;
    int c;
    sl_error err;
    uint64_t v;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_SCHEMA:
            o->schema = optarg;
            break;
        case O_MESSAGE:
            o->message = optarg;
            break;
        case O_INPUT:
            o->input = optarg;
            break;
        case O_OUTPUT:
            o->output = optarg;
            break;
        case O_INFMT:
            if (!strcmp(optarg, "pb-delimited"))
                o->informat = IN_PB;
            else if (!strcmp(optarg, "jsonl"))
                o->informat = IN_JSONL;
            else if (!strcmp(optarg, "delimited"))
                o->informat = IN_DELIM;
            else
                return fail_usage("unknown --input-format '%s' (pb-delimited | jsonl | delimited)",
                                  optarg);
            break;
        case O_COMP:
            if (sl_pq_codec_parse(optarg, &o->pq.codec, &err)) return fail_usage("%s", err.msg);
            break;
        case O_LEVEL: {
            char *end;
            long l = strtol(optarg, &end, 10);
            if (*end || l < -100 || l > 22) return fail_usage("bad --level '%s'", optarg);
            o->pq.level = (int)l;
            break;
        }
        case O_RG:
            if (sl_parse_size(optarg, &v) || v < 4096)
                return fail_usage("bad --row-group-size '%s' (e.g. 128MiB, at least 4KiB)", optarg);
            o->pq.row_group_bytes = v;
            break;
        case O_PAGE:
            if (sl_parse_size(optarg, &v) || v < 1024 || v > ((uint64_t)1 << 30))
                return fail_usage("bad --page-size '%s' (e.g. 1MiB; 1KiB..1GiB)", optarg);
            o->pq.page_bytes = v;
            break;
        case O_NODICT:
            o->pq.no_dictionary = 1;
            break;
        case O_NODELTA:
            o->pq.no_delta = 1;
            break;
        case O_SEP:
            if (!strcmp(optarg, "\\t") || !strcmp(optarg, "tab"))
                o->separator = '\t';
            else if (strlen(optarg) == 1 && optarg[0] != '\n' && optarg[0] != '\r')
                o->separator = optarg[0];
            else
                return fail_usage("bad --separator '%s' (one character, or \\t)", optarg);
            break;
        case O_NULL:
            o->null_token = optarg;
            break;
        case O_IGN:
            o->ignore_unknown = 1;
            break;
        case O_BAD:
            if (!strcmp(optarg, "fail"))
                o->bad = BAD_FAIL;
            else if (!strcmp(optarg, "skip"))
                o->bad = BAD_SKIP;
            else if (!strcmp(optarg, "dead-letter")) {
                if (optind >= argc)
                    return fail_usage("%s", "--bad-records dead-letter needs a FILE");
                o->bad = BAD_DEAD_LETTER;
                o->dead_letter = argv[optind++];
            } else
                return fail_usage("bad --bad-records '%s' (fail | skip | dead-letter FILE)",
                                  optarg);
            break;
        case O_QUIET:
            o->quiet = 1;
            break;
        case O_HELP:
            usage(stdout);
            return -1;
        default:
            return fail_usage("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return fail_usage("unexpected argument '%s'", argv[optind]);
    if (!o->schema) return fail_usage("%s", "--schema is required");
    if (!o->message) return fail_usage("%s", "--message is required");
    if (!o->informat) return fail_usage("%s", "--input-format is required");
    if (!o->input) return fail_usage("%s", "--input is required");
    if (!o->output) return fail_usage("%s", "--output is required");
    return 0;
}

static sl_err_t decode(convert_run *r, const sl_frame *fr, sl_error *err)
{
    switch (r->o.informat) {
    case IN_PB:
        return sl_pb_decode(r->rec, &r->batch, fr->p, fr->len, err);
    case IN_JSONL: {
        sl_json_options jo = {.ignore_unknown = r->o.ignore_unknown};
        return sl_json_decode(r->rec, &r->batch, fr->p, fr->len, &jo, err);
    }
    default: {
        sl_delim_options d = {.separator = r->o.separator, .null_token = r->o.null_token};
        return sl_delim_decode(r->rec, &r->batch, fr->p, fr->len, &d, err);
    }
    }
}

/* One JSON line per bad record; the reason is JSON-escaped. */
static sl_err_t dead_letter(convert_run *r, const sl_frame *fr, const char *reason, sl_error *err)
{
    sl_buf *b = &r->line;
    char head[512];
    sl_buf_reset(b);
    int n = snprintf(head, sizeof head,
                     "{\"input\":\"%s\",\"record\":%llu,\"offset\":%llu,\"reason\":\"", r->in.name,
                     (unsigned long long)fr->index, (unsigned long long)fr->offset);
    sl_err_t rc = sl_buf_append(b, head, (size_t)n);
    for (const unsigned char *s = (const unsigned char *)reason; !rc && *s; s++) {
        if (*s == '"' || *s == '\\')
            rc = sl_buf_put_u8(b, '\\') || sl_buf_put_u8(b, *s);
        else if (*s < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", *s);
            rc = sl_buf_append(b, esc, 6);
        } else
            rc = sl_buf_put_u8(b, *s);
    }
    if (!rc) rc = sl_buf_append(b, "\",\"raw_base64\":\"", 16);
    if (!rc) rc = sl_base64_encode(fr->p, fr->len, b);
    if (!rc) rc = sl_buf_append(b, "\"}\n", 3);
    if (rc) return sl_error_set(err, rc, "dead-letter file %s: out of memory", r->o.dead_letter);
    return sl_ostream_write(r->dl.os, b->p, b->len, err);
}

/* Apply the --bad-records policy to a record that failed with err. */
static sl_err_t bad_record(convert_run *r, const sl_frame *fr, sl_error *err)
{
    if (err->code == SL_ERR_NOMEM || err->code == SL_ERR_IO) return err->code;
    sl_error_prefix(err, "input %s: record %llu at byte %llu", r->in.name,
                    (unsigned long long)fr->index, (unsigned long long)fr->offset);
    r->bad++;
    if (r->o.bad == BAD_FAIL) {
        sl_error_prefix(err, "%s", "bad record");
        return err->code;
    }
    if (r->o.bad == BAD_SKIP && r->bad <= SL_CONVERT_REPORTED)
        fprintf(stderr, "sluice convert: skipped bad record: %s\n", err->msg);
    if (r->o.bad == BAD_DEAD_LETTER) {
        sl_error dl_err;
        sl_err_t rc = dead_letter(r, fr, err->msg, &dl_err);
        if (rc) {
            *err = dl_err;
            return rc;
        }
    }
    sl_error_clear(err);
    return SL_OK;
}

static sl_err_t flush_batch(convert_run *r, sl_error *err)
{
    if (!r->batch.nrows) return SL_OK;
    sl_err_t rc = sl_pq_writer_write(r->pw, &r->batch, err);
    sl_batch_reset(&r->batch);
    return rc;
}

static sl_err_t run(convert_run *r, sl_error *err)
{
    convert_opts *o = &r->o;
    sl_err_t rc;
    if ((rc = sl_pb_pool_load(&r->pool, o->schema, err))) return rc;
    if ((rc = sl_plan_compile(&r->plan, &r->pool, o->message, err))) return rc;
    if ((rc = sl_batch_init(&r->batch, &r->plan.schema)) || (rc = sl_rec_new(&r->rec, &r->plan)))
        return sl_error_set(err, rc, "out of memory");
    if ((rc = sl_framer_open(&r->in, o->input,
                             o->informat == IN_PB ? SL_FRAME_VARINT : SL_FRAME_LINES, 0, 0, err)))
        return rc;
    r->in_open = 1;
    r->in.stop = &sl_cli_stop;
    if ((rc = sl_atomic_open(&r->out, o->output, err))) return rc;
    r->out_open = 1;
    if (o->bad == BAD_DEAD_LETTER) {
        if ((rc = sl_atomic_open(&r->dl, o->dead_letter, err))) return rc;
        r->dl_open = 1;
    }
    if ((rc = sl_pq_writer_open(&r->pw, &r->plan.schema, r->out.os, &o->pq, err))) return rc;

    sl_frame fr;
    while ((rc = sl_framer_next(&r->in, &fr, err)) == SL_OK) {
        if (SL_UNLIKELY(sl_cli_stop))
            return sl_error_set(err, SL_ERR_IO, "interrupted by signal %d at record %llu",
                                (int)sl_cli_stop, (unsigned long long)fr.index);
        if (o->informat == IN_JSONL) { /* blank lines separate nothing */
            size_t k = 0;
            while (k < fr.len && (fr.p[k] == ' ' || fr.p[k] == '\t'))
                k++;
            if (k == fr.len) continue;
        }
        r->records++;
        if (SL_UNLIKELY(decode(r, &fr, err)) && (rc = bad_record(r, &fr, err))) return rc;
        if (r->batch.nrows >= SL_CONVERT_BATCH_ROWS ||
            (r->batch.nrows % 256 == 0 && sl_batch_bytes(&r->batch) >= SL_CONVERT_BATCH_BYTES)) {
            if ((rc = flush_batch(r, err))) return rc;
        }
    }
    if (rc != SL_ERR_EOF) {
        /* The input ends in a broken frame: a bad record at its tail. */
        if (rc == SL_ERR_NOMEM || rc == SL_ERR_IO || o->bad == BAD_FAIL) return rc;
        r->records++;
        r->bad++;
        fprintf(stderr, "sluice convert: %s (counted as a bad record)\n", err->msg);
        if (o->bad == BAD_DEAD_LETTER) {
            sl_frame tail = {.p = (const uint8_t *)"",
                             .len = 0,
                             .index = r->in.index,
                             .offset = r->in.buf_off + r->in.start};
            sl_error dl_err;
            if ((rc = dead_letter(r, &tail, err->msg, &dl_err))) {
                *err = dl_err;
                return rc;
            }
        }
        sl_error_clear(err);
    }
    if ((rc = flush_batch(r, err)) || (rc = sl_pq_writer_close(r->pw, err))) return rc;
    if ((rc = sl_atomic_commit(&r->out, err))) return rc;
    r->out_open = 0;
    if (r->dl_open) {
        r->dl_open = 0;
        if ((rc = sl_atomic_commit(&r->dl, err))) return rc;
    }
    return SL_OK;
}

static void cleanup(convert_run *r)
{
    if (r->out_open) sl_atomic_abort(&r->out);
    if (r->dl_open) sl_atomic_abort(&r->dl);
    if (r->in_open) sl_framer_close(&r->in);
    sl_pq_writer_free(r->pw);
    sl_rec_free(r->rec);
    sl_batch_free(&r->batch);
    sl_plan_free(&r->plan);
    sl_pb_pool_free(&r->pool);
    sl_buf_free(&r->line);
}

int sl_cmd_convert(int argc, char **argv)
{
    convert_run r;
    memset(&r, 0, sizeof r);
    int prc = parse_args(&r.o, argc, argv);
    if (prc) return prc < 0 ? 0 : prc;

    sl_cli_trap_signals();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sl_error err;
    sl_error_clear(&err);
    sl_err_t rc = run(&r, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    sl_pq_writer_stats st = {0};
    if (r.pw) sl_pq_writer_get_stats(r.pw, &st);
    cleanup(&r);
    if (rc) {
        fprintf(stderr, "sluice convert: %s\n", err.msg[0] ? err.msg : sl_err_text(rc));
        if (r.o.bad == BAD_FAIL && r.bad)
            fprintf(stderr, "sluice convert: no output written; to keep going past bad records use "
                            "--bad-records skip or --bad-records dead-letter FILE\n");
        else
            fprintf(stderr, "sluice convert: no output written\n");
        return sl_cli_stop ? 130 : 1;
    }
    if (!r.o.quiet) {
        char sz[32];
        fprintf(
            stderr,
            "sluice convert: %llu records -> %s (%llu rows, %s, %lld row group%s, %s) in %.2f s, "
            "%.0f rows/s",
            (unsigned long long)r.records, r.o.output, (unsigned long long)st.rows,
            sl_fmt_bytes(st.bytes_written, sz, sizeof sz), (long long)st.row_groups,
            st.row_groups == 1 ? "" : "s", sl_pq_codec_name(r.o.pq.codec), secs,
            secs > 0 ? (double)st.rows / secs : 0.0);
        if (r.bad)
            fprintf(stderr, "; %llu bad record%s %s%s", (unsigned long long)r.bad,
                    r.bad == 1 ? "" : "s", r.o.bad == BAD_SKIP ? "skipped" : "dead-lettered to ",
                    r.o.bad == BAD_SKIP ? "" : r.o.dead_letter);
        fputc('\n', stderr);
    }
    return 0;
}
