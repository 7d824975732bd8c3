/* test_kbatch.c - batched Kafka values (formats/batch/kbatch.h).
 *
 * Without arguments: the unit tests. Batches are built with our own encoder
 * (which tests/e2e/0022 checks against python's zstandard, lz4, snappy and
 * gzip modules) and then broken on purpose: truncated at every byte,
 * corrupted at every byte, bombs that expand past max_bytes, bad snappy
 * CRCs, chunk types, wrong magics, malformed length prefixes.
 *
 * Driver modes for tests/e2e/0022-kbatch-vs-python.sh:
 *   test_kbatch decode CODEC FILE [MAX_BYTES]
 *       open FILE as one value, print each record as one hex line (an empty
 *       record is an empty line); the detected codec on stderr as
 *       "found CODEC". Exit 1 with the error on stderr.
 *   test_kbatch encode CODEC IN OUT
 *       IN holds varint-delimited records; write sl_kbatch_encode's output.
 */
#include <stdint.h>

#include "core/buf.h"
#include "formats/batch/kbatch.h"
#include "test.h"

#define MAXREC 4096

typedef struct recs {
    sl_buf delim;                    /* the records, varint-delimited */
    size_t off[MAXREC], len[MAXREC]; /* record i is delim.p[off[i]..+len[i]) */
    size_t end[MAXREC];              /* byte after record i in delim */
    int n;
} recs;

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void add_rec(recs *r, const uint8_t *p, size_t n)
{
    if (r->n >= MAXREC) return;
    CHECK_OK(sl_buf_put_varint(&r->delim, n), NULL);
    r->off[r->n] = r->delim.len;
    r->len[r->n] = n;
    CHECK_OK(sl_buf_append(&r->delim, p, n), NULL);
    r->end[r->n] = r->delim.len;
    r->n++;
}

/* n records of mixed sizes (some empty, some a few KiB), text-like bytes so
 * the codecs compress them; `noise` makes them incompressible instead. */
static void make_recs(recs *r, int n, size_t maxlen, int noise)
{
    static uint8_t tmp[1 << 16];
    memset(r, 0, sizeof *r);
    for (int i = 0; i < n; i++) {
        size_t len = i % 7 == 3 ? 0 : rnd() % (maxlen + 1);
        for (size_t k = 0; k < len; k++)
            tmp[k] = noise ? (uint8_t)rnd() : (uint8_t)("event play mid avid "[(k + i) % 20]);
        add_rec(r, tmp, len);
    }
}

static void free_recs(recs *r)
{
    sl_buf_free(&r->delim);
}

/* Open and read every record: returns the count, or the first error (<0).
 * Each record must equal r's record at the same index (r may be NULL). */
static int read_all(sl_kbatch *kb, const uint8_t *v, size_t n, const recs *r, sl_error *err)
{
    sl_err_t rc = sl_kbatch_open(kb, v, n, err);
    if (rc) return rc;
    const uint8_t *p;
    size_t len;
    int i = 0, got;
    while ((got = sl_kbatch_next(kb, &p, &len, err)) == 1) {
        if (r) {
            CHECK(i < r->n);
            if (i >= r->n) return -100;
            CHECK_EQ_INT(len, r->len[i]);
            CHECK(len == r->len[i] && (len == 0 || memcmp(p, r->delim.p + r->off[i], len) == 0));
        }
        i++;
    }
    return got < 0 ? got : i;
}

static const int codecs[] = {SL_KB_NONE, SL_KB_GZIP, SL_KB_SNAPPY, SL_KB_LZ4, SL_KB_ZSTD};

static void test_codec_names(void)
{
    sl_error err;
    for (int c = 0; c <= SL_KB_AUTO; c++) {
        int got = -1;
        CHECK_OK(sl_kbatch_codec_parse(sl_kbatch_codec_name(c), &got, &err), &err);
        CHECK_EQ_INT(got, c);
    }
    int keep = 7;
    CHECK_EQ_INT(sl_kbatch_codec_parse("brotli", &keep, &err), SL_ERR_INVALID);
    CHECK(strstr(err.msg, "brotli") && strstr(err.msg, "zstd"));
    CHECK_EQ_INT(keep, 7);
    CHECK(strcmp(sl_kbatch_codec_name(42), "unknown") == 0);
    sl_kbatch *kb = (sl_kbatch *)1;
    CHECK_EQ_INT(sl_kbatch_new(&kb, 9, 0), SL_ERR_INVALID);
    CHECK(kb == NULL);
    CHECK_EQ_INT(sl_kbatch_new(&kb, SL_KB_AUTO, SL_BUF_MAX), SL_ERR_INVALID);
}

/* Every codec, read back with the fixed codec and with AUTO; a buffer that
 * grows past several snappy chunks and LZ4 blocks. */
static void test_roundtrip(void)
{
    static recs r;
    make_recs(&r, 600, 2000, 0);
    CHECK(r.delim.len > 3 * 65536);
    for (size_t i = 0; i < sizeof codecs / sizeof *codecs; i++) {
        sl_buf v = SL_BUF_INIT;
        sl_error err;
        CHECK_OK(sl_kbatch_encode(&v, codecs[i], r.delim.p, r.delim.len, &err), &err);
        if (codecs[i] != SL_KB_NONE) CHECK(v.len < r.delim.len / 2);
        for (int mode = 0; mode < 2; mode++) {
            sl_kbatch *kb;
            CHECK_OK(sl_kbatch_new(&kb, mode ? SL_KB_AUTO : codecs[i], 0), NULL);
            CHECK_EQ_INT(read_all(kb, v.p, v.len, &r, &err), r.n);
            CHECK_EQ_INT(sl_kbatch_found(kb), codecs[i]);
            CHECK_EQ_INT(sl_kbatch_index(kb), r.n);
            CHECK_EQ_INT(sl_kbatch_size(kb), r.delim.len);
            sl_kbatch_free(kb);
        }
        sl_buf_free(&v);
    }
    free_recs(&r);
}

/* Incompressible records: snappy stores chunks uncompressed (type 1). */
static void test_incompressible(void)
{
    static recs r;
    make_recs(&r, 100, 3000, 1);
    for (size_t i = 0; i < sizeof codecs / sizeof *codecs; i++) {
        sl_buf v = SL_BUF_INIT;
        sl_error err;
        CHECK_OK(sl_kbatch_encode(&v, codecs[i], r.delim.p, r.delim.len, &err), &err);
        if (codecs[i] == SL_KB_SNAPPY) CHECK(v.len > 10 && v.p[10] == 0x01);
        sl_kbatch *kb;
        CHECK_OK(sl_kbatch_new(&kb, SL_KB_AUTO, 0), NULL);
        CHECK_EQ_INT(read_all(kb, v.p, v.len, &r, &err), r.n);
        sl_kbatch_free(kb);
        sl_buf_free(&v);
    }
    free_recs(&r);
}

static void test_empty_and_zero_length(void)
{
    static recs r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < 1000; i++)
        add_rec(&r, NULL, 0);
    sl_kbatch *kb;
    sl_error err;
    CHECK_OK(sl_kbatch_new(&kb, SL_KB_AUTO, 0), NULL);
    CHECK_EQ_INT(read_all(kb, (const uint8_t *)"", 0, NULL, &err), 0); /* empty value */
    CHECK_EQ_INT(read_all(kb, NULL, 0, NULL, &err), 0);
    for (size_t i = 0; i < sizeof codecs / sizeof *codecs; i++) {
        sl_buf v = SL_BUF_INIT;
        CHECK_OK(sl_kbatch_encode(&v, codecs[i], NULL, 0, &err), &err);
        CHECK_EQ_INT(read_all(kb, v.p, v.len, NULL, &err), 0);
        CHECK_EQ_INT(sl_kbatch_found(kb), codecs[i]);
        sl_buf_reset(&v);
        CHECK_OK(sl_kbatch_encode(&v, codecs[i], r.delim.p, r.delim.len, &err), &err);
        CHECK_EQ_INT(read_all(kb, v.p, v.len, &r, &err), 1000);
        sl_buf_free(&v);
    }
    sl_kbatch_free(kb);
    /* A fixed codec refuses an empty value: there is no magic. */
    CHECK_OK(sl_kbatch_new(&kb, SL_KB_ZSTD, 0), NULL);
    CHECK_EQ_INT(read_all(kb, (const uint8_t *)"", 0, NULL, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "zstd") && strstr(err.msg, "magic"));
    sl_kbatch_free(kb);
    free_recs(&r);
}

/* Concatenated frames / members / streams are one batch. */
static void test_concat(void)
{
    static recs r;
    make_recs(&r, 300, 700, 0);
    size_t mid = r.end[140];
    for (size_t i = 0; i < sizeof codecs / sizeof *codecs; i++) {
        sl_buf v = SL_BUF_INIT;
        sl_error err;
        CHECK_OK(sl_kbatch_encode(&v, codecs[i], r.delim.p, mid, &err), &err);
        CHECK_OK(sl_kbatch_encode(&v, codecs[i], NULL, 0, &err), &err); /* empty frame between */
        CHECK_OK(sl_kbatch_encode(&v, codecs[i], r.delim.p + mid, r.delim.len - mid, &err), &err);
        sl_kbatch *kb;
        CHECK_OK(sl_kbatch_new(&kb, SL_KB_AUTO, 0), NULL);
        CHECK_EQ_INT(read_all(kb, v.p, v.len, &r, &err), r.n);
        /* trailing garbage after the last frame is an error, not ignored */
        if (codecs[i] != SL_KB_NONE && codecs[i] != SL_KB_SNAPPY) {
            CHECK_OK(sl_buf_put_u8(&v, 0), NULL);
            CHECK_EQ_INT(read_all(kb, v.p, v.len, NULL, &err), SL_ERR_CORRUPT);
            CHECK(strstr(err.msg, sl_kbatch_codec_name(codecs[i])) != NULL);
        }
        sl_kbatch_free(kb);
        sl_buf_free(&v);
    }
    free_recs(&r);
}

/* Cut the value at every length. Allowed outcomes: an error, or records that
 * are a prefix of the originals ending cleanly only where the cut is at a
 * boundary the format cannot see (an uncompressed value cut between
 * records; a snappy stream cut after its identifier; an empty value). */
static void test_truncation(void)
{
    static recs r;
    make_recs(&r, 25, 40, 0);
    for (size_t i = 0; i < sizeof codecs / sizeof *codecs; i++) {
        sl_buf v = SL_BUF_INIT;
        sl_error err;
        CHECK_OK(sl_kbatch_encode(&v, codecs[i], r.delim.p, r.delim.len, &err), &err);
        for (int mode = 0; mode < 2; mode++) {
            sl_kbatch *kb;
            CHECK_OK(sl_kbatch_new(&kb, mode ? SL_KB_AUTO : codecs[i], 0), NULL);
            for (size_t cut = 0; cut < v.len; cut++) {
                uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees overreads */
                memcpy(copy, v.p, cut);
                int got = read_all(kb, copy, cut, &r, &err);
                if (got >= 0) {
                    int ok = cut == 0 && (mode || codecs[i] == SL_KB_NONE);
                    if (codecs[i] == SL_KB_NONE) ok = ok || (got > 0 && r.end[got - 1] == cut);
                    if (codecs[i] == SL_KB_SNAPPY) ok = ok || (cut == 10 && got == 0);
                    if (!ok)
                        fprintf(stderr, "%s mode %d: cut %zu of %zu gave %d records\n",
                                sl_kbatch_codec_name(codecs[i]), mode, cut, v.len, got);
                    CHECK(ok);
                } else {
                    CHECK(got == SL_ERR_CORRUPT && err.msg[0]);
                }
                free(copy);
            }
            sl_kbatch_free(kb);
        }
        sl_buf_free(&v);
    }
    free_recs(&r);
}

/* Flip every byte: never a crash, and an error always has a message. */
static void test_corruption(void)
{
    static recs r;
    make_recs(&r, 20, 60, 0);
    for (size_t i = 1; i < sizeof codecs / sizeof *codecs; i++) {
        sl_buf v = SL_BUF_INIT;
        sl_error err;
        CHECK_OK(sl_kbatch_encode(&v, codecs[i], r.delim.p, r.delim.len, &err), &err);
        sl_kbatch *kb;
        CHECK_OK(sl_kbatch_new(&kb, codecs[i], 1 << 16), NULL);
        int errors = 0;
        for (size_t at = 0; at < v.len; at++) {
            for (int bit = 0; bit < 8; bit += 3) {
                v.p[at] ^= (uint8_t)(1 << bit);
                int got = read_all(kb, v.p, v.len, NULL, &err);
                if (got < 0) {
                    errors++;
                    CHECK(err.msg[0] != 0);
                }
                v.p[at] ^= (uint8_t)(1 << bit);
            }
        }
        /* every format here carries a checksum of the content, so nearly
         * every flip is caught (flips in unused header bits are not). */
        CHECK(errors > (int)(v.len * 3) * 8 / 10);
        CHECK_EQ_INT(read_all(kb, v.p, v.len, &r, &err), r.n); /* still fine after errors */
        sl_kbatch_free(kb);
        sl_buf_free(&v);
    }
    free_recs(&r);
}

/* 1 MiB of zeros compresses to a few hundred bytes: max_bytes must stop it
 * exactly at the bound, whatever the codec. */
static void test_bombs(void)
{
    static recs r;
    memset(&r, 0, sizeof r);
    uint8_t *zeros = calloc(1, 1 << 20);
    add_rec(&r, zeros, 1 << 20);
    free(zeros);
    for (size_t i = 0; i < sizeof codecs / sizeof *codecs; i++) {
        sl_buf v = SL_BUF_INIT;
        sl_error err;
        CHECK_OK(sl_kbatch_encode(&v, codecs[i], r.delim.p, r.delim.len, &err), &err);
        if (codecs[i] != SL_KB_NONE) CHECK(v.len < r.delim.len / 16); /* a real bomb */
        size_t bounds[] = {65536, r.delim.len - 1, r.delim.len};
        for (int b = 0; b < 3; b++) {
            sl_kbatch *kb;
            CHECK_OK(sl_kbatch_new(&kb, SL_KB_AUTO, bounds[b]), NULL);
            int got = read_all(kb, v.p, v.len, &r, &err);
            if (b == 2) {
                CHECK_EQ_INT(got, 1);
            } else {
                CHECK_EQ_INT(got, SL_ERR_LIMIT);
                CHECK(strstr(err.msg, "max_bytes") &&
                      strstr(err.msg, sl_kbatch_codec_name(codecs[i])));
            }
            sl_kbatch_free(kb);
        }
        sl_buf_free(&v);
    }
    free_recs(&r);
}

static void put_chunk(sl_buf *b, int type, const void *p, size_t n)
{
    CHECK_OK(sl_buf_put_u8(b, (uint8_t)type), NULL);
    CHECK_OK(sl_buf_put_u8(b, (uint8_t)n), NULL);
    CHECK_OK(sl_buf_put_u8(b, (uint8_t)(n >> 8)), NULL);
    CHECK_OK(sl_buf_put_u8(b, (uint8_t)(n >> 16)), NULL);
    CHECK_OK(sl_buf_append(b, p, n), NULL);
}

static void test_snappy_framing(void)
{
    static recs r, noise;
    make_recs(&r, 50, 100, 0);
    make_recs(&noise, 20, 100, 1);
    sl_kbatch *kb;
    sl_error err;
    CHECK_OK(sl_kbatch_new(&kb, SL_KB_SNAPPY, 0), NULL);
    sl_buf v = SL_BUF_INIT, w = SL_BUF_INIT;
    /* a bad CRC in a compressed chunk (CRC at bytes 14..17) */
    CHECK_OK(sl_kbatch_encode(&v, SL_KB_SNAPPY, r.delim.p, r.delim.len, &err), &err);
    CHECK_EQ_INT(v.p[10], 0x00);
    v.p[15] ^= 0x40;
    CHECK_EQ_INT(read_all(kb, v.p, v.len, NULL, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "CRC-32C mismatch in a compressed chunk") && strstr(err.msg, "byte 10"));
    v.p[15] ^= 0x40;
    /* padding (0xfe) and skippable (0x80..0xfd) chunks, and a second stream
     * identifier, are skipped */
    CHECK_OK(sl_buf_append(&w, v.p, 10), NULL);
    put_chunk(&w, 0xfe, "\0\0\0", 3);
    CHECK_OK(sl_buf_append(&w, v.p + 10, v.len - 10), NULL);
    put_chunk(&w, 0x80, "skip me", 7);
    put_chunk(&w, 0xfd, "", 0);
    CHECK_OK(sl_buf_append(&w, v.p, 10), NULL);
    CHECK_EQ_INT(read_all(kb, w.p, w.len, &r, &err), r.n);
    /* a reserved unskippable chunk type is an error naming its offset */
    sl_buf_reset(&w);
    CHECK_OK(sl_buf_append(&w, v.p, v.len), NULL);
    put_chunk(&w, 0x02, "abcd", 4);
    CHECK_EQ_INT(read_all(kb, w.p, w.len, NULL, &err), SL_ERR_CORRUPT);
    char want[64];
    snprintf(want, sizeof want, "byte %zu of %zu: reserved unskippable chunk type 0x02", v.len,
             w.len);
    CHECK(strstr(err.msg, want) != NULL);
    /* a bad CRC over an uncompressed chunk */
    sl_buf_reset(&v);
    CHECK_OK(sl_kbatch_encode(&v, SL_KB_SNAPPY, noise.delim.p, noise.delim.len, &err), &err);
    CHECK_EQ_INT(v.p[10], 0x01);
    v.p[v.len - 1] ^= 1;
    CHECK_EQ_INT(read_all(kb, v.p, v.len, NULL, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "CRC-32C mismatch in an uncompressed chunk") ||
          strstr(err.msg, "CRC-32C mismatch in a uncompressed chunk"));
    /* an uncompressed chunk above 65536 bytes (CRC right) */
    sl_buf_reset(&w);
    CHECK_OK(sl_buf_append(&w, v.p, 10), NULL);
    uint8_t *big = calloc(1, 65537 + 4);
    put_chunk(&w, 0x01, big, 65537 + 4);
    CHECK_EQ_INT(read_all(kb, w.p, w.len, NULL, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "65537") != NULL);
    free(big);
    /* no stream identifier first */
    CHECK_EQ_INT(read_all(kb, w.p + 10, w.len - 10, NULL, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "magic") != NULL);
    /* a bad identifier later on */
    sl_buf_reset(&w);
    CHECK_OK(sl_buf_append(&w, v.p, 10), NULL);
    put_chunk(&w, 0xff, "sNaPpX", 6);
    CHECK_EQ_INT(read_all(kb, w.p, w.len, NULL, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "byte 10") && strstr(err.msg, "identifier"));
    sl_buf_free(&v);
    sl_buf_free(&w);
    sl_kbatch_free(kb);
    free_recs(&r);
    free_recs(&noise);
}

static void test_magic(void)
{
    static recs r;
    make_recs(&r, 10, 50, 0);
    sl_buf v = SL_BUF_INIT;
    sl_error err;
    CHECK_OK(sl_kbatch_encode(&v, SL_KB_ZSTD, r.delim.p, r.delim.len, &err), &err);
    sl_kbatch *kb;
    CHECK_OK(sl_kbatch_new(&kb, SL_KB_GZIP, 0), NULL);
    CHECK_EQ_INT(read_all(kb, v.p, v.len, NULL, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "gzip magic (1f 8b)") && strstr(err.msg, "but with 28 b5 2f fd") &&
          strstr(err.msg, "looks like zstd"));
    CHECK_EQ_INT(sl_kbatch_found(kb), -1);
    const uint8_t *p;
    size_t len;
    CHECK_EQ_INT(sl_kbatch_next(kb, &p, &len, &err), SL_ERR_INVALID);
    sl_kbatch_free(kb);
    /* a zstd skippable frame before the data: fine for a fixed zstd codec */
    sl_buf w = SL_BUF_INIT;
    CHECK_OK(sl_buf_append(&w, "\x50\x2a\x4d\x18\x03\x00\x00\x00xyz", 11), NULL);
    CHECK_OK(sl_buf_append(&w, v.p, v.len), NULL);
    CHECK_OK(sl_kbatch_new(&kb, SL_KB_ZSTD, 0), NULL);
    CHECK_EQ_INT(read_all(kb, w.p, w.len, &r, &err), r.n);
    sl_kbatch_free(kb);
    /* AUTO: no magic means uncompressed */
    CHECK_OK(sl_kbatch_new(&kb, SL_KB_AUTO, 0), NULL);
    CHECK_EQ_INT(read_all(kb, r.delim.p, r.delim.len, &r, &err), r.n);
    CHECK_EQ_INT(sl_kbatch_found(kb), SL_KB_NONE);
    sl_kbatch_free(kb);
    sl_buf_free(&v);
    sl_buf_free(&w);
    free_recs(&r);
}

static void test_next_errors(void)
{
    sl_kbatch *kb;
    sl_error err;
    const uint8_t *p;
    size_t len;
    CHECK_OK(sl_kbatch_new(&kb, SL_KB_NONE, 0), NULL);
    CHECK_EQ_INT(sl_kbatch_next(kb, &p, &len, &err), SL_ERR_INVALID); /* nothing open */
    CHECK_OK(sl_kbatch_open(kb,
                            (const uint8_t *)"\x02"
                                             "ab"
                                             "\x05x",
                            5, &err),
             &err);
    CHECK_EQ_INT(sl_kbatch_next(kb, &p, &len, &err), 1);
    CHECK(len == 2 && memcmp(p, "ab", 2) == 0);
    CHECK_EQ_INT(sl_kbatch_next(kb, &p, &len, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "record 1 at byte 3: length prefix says 5 bytes but only 1 remain"));
    CHECK_EQ_INT(sl_kbatch_next(kb, &p, &len, &err), SL_ERR_INVALID);
    CHECK_OK(sl_kbatch_open(kb,
                            (const uint8_t *)"\x01"
                                             "a\x80",
                            3, &err),
             &err);
    CHECK_EQ_INT(sl_kbatch_next(kb, &p, &len, &err), 1);
    CHECK_EQ_INT(sl_kbatch_next(kb, &p, &len, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "record 1 at byte 2: the batch ends inside the length prefix"));
    uint8_t ff[12];
    memset(ff, 0xff, sizeof ff);
    CHECK_OK(sl_kbatch_open(kb, ff, sizeof ff, &err), &err);
    CHECK_EQ_INT(sl_kbatch_next(kb, &p, &len, &err), SL_ERR_CORRUPT);
    CHECK(strstr(err.msg, "record 0 at byte 0: malformed length prefix"));
    /* uncompressed values are bounded too */
    sl_kbatch_free(kb);
    CHECK_OK(sl_kbatch_new(&kb, SL_KB_NONE, 4), NULL);
    CHECK_EQ_INT(sl_kbatch_open(kb,
                                (const uint8_t *)"\x04"
                                                 "abcd",
                                5, &err),
                 SL_ERR_LIMIT);
    sl_kbatch_free(kb);
}

/* One reader for many values, good and bad, codecs mixed. */
static void test_reuse(void)
{
    static recs r[3];
    sl_buf v[5][3];
    sl_error err;
    for (int k = 0; k < 3; k++)
        make_recs(&r[k], 30 + 40 * k, 300 * (k + 1), k == 2);
    for (int c = 0; c < 5; c++)
        for (int k = 0; k < 3; k++) {
            sl_buf b = SL_BUF_INIT;
            CHECK_OK(sl_kbatch_encode(&b, codecs[c], r[k].delim.p, r[k].delim.len, &err), &err);
            v[c][k] = b;
        }
    sl_kbatch *kb;
    CHECK_OK(sl_kbatch_new(&kb, SL_KB_AUTO, 0), NULL);
    for (int it = 0; it < 300; it++) {
        int c = (int)(rnd() % 5), k = (int)(rnd() % 3);
        if (it % 7 == 0 && c != SL_KB_NONE) { /* a truncated one in between */
            CHECK(read_all(kb, v[c][k].p, v[c][k].len / 2, NULL, &err) < 0);
            continue;
        }
        CHECK_EQ_INT(read_all(kb, v[c][k].p, v[c][k].len, &r[k], &err), r[k].n);
    }
    sl_kbatch_free(kb);
    for (int c = 0; c < 5; c++)
        for (int k = 0; k < 3; k++)
            sl_buf_free(&v[c][k]);
    for (int k = 0; k < 3; k++)
        free_recs(&r[k]);
}

static void test_encode_errors(void)
{
    sl_buf v = SL_BUF_INIT;
    sl_error err;
    CHECK_OK(sl_buf_append(&v, "keep", 4), NULL);
    CHECK_EQ_INT(sl_kbatch_encode(&v, SL_KB_ZSTD,
                                  (const uint8_t *)"\x01"
                                                   "a\x05"
                                                   "ab",
                                  5, &err),
                 SL_ERR_INVALID);
    CHECK(strstr(err.msg, "record 1 at byte 2") != NULL);
    CHECK_EQ_INT(v.len, 4);
    CHECK_EQ_INT(sl_kbatch_encode(&v, SL_KB_AUTO,
                                  (const uint8_t *)"\x01"
                                                   "a",
                                  2, &err),
                 SL_ERR_INVALID);
    CHECK_EQ_INT(v.len, 4);
    sl_buf_free(&v);
}

/* ---- driver modes for tests/e2e/0022 ---- */

static int slurp(const char *path, sl_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    uint8_t tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (sl_buf_append(b, tmp, n)) break;
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : 0;
}

static int drive(int argc, char **argv)
{
    sl_error err;
    int codec, rc = 1;
    sl_buf in = SL_BUF_INIT, out = SL_BUF_INIT;
    sl_kbatch *kb = NULL;
    if (argc < 4 || sl_kbatch_codec_parse(argv[2], &codec, &err)) {
        fprintf(stderr, "usage: test_kbatch decode CODEC FILE [MAX] | encode CODEC IN OUT\n");
        return 2;
    }
    if (slurp(argv[3], &in)) {
        fprintf(stderr, "cannot read %s\n", argv[3]);
        goto done;
    }
    if (strcmp(argv[1], "encode") == 0 && argc == 5) {
        FILE *f = fopen(argv[4], "wb");
        if (sl_kbatch_encode(&out, codec, in.p, in.len, &err)) {
            fprintf(stderr, "%s\n", err.msg);
        } else if (!f || fwrite(out.p, 1, out.len, f) != out.len) {
            fprintf(stderr, "cannot write %s\n", argv[4]);
        } else {
            rc = 0;
        }
        if (f) fclose(f);
        goto done;
    }
    if (sl_kbatch_new(&kb, codec, argc > 4 ? strtoull(argv[4], NULL, 10) : 0)) goto done;
    if (sl_kbatch_open(kb, in.p, in.len, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        goto done;
    }
    fprintf(stderr, "found %s\n", sl_kbatch_codec_name(sl_kbatch_found(kb)));
    const uint8_t *p;
    size_t len;
    int got;
    while ((got = sl_kbatch_next(kb, &p, &len, &err)) == 1) {
        for (size_t i = 0; i < len; i++)
            printf("%02x", p[i]);
        putchar('\n');
    }
    if (got < 0)
        fprintf(stderr, "%s\n", err.msg);
    else
        rc = 0;
done:
    sl_kbatch_free(kb);
    sl_buf_free(&in);
    sl_buf_free(&out);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1) return drive(argc, argv);
    RUN(test_codec_names);
    RUN(test_roundtrip);
    RUN(test_incompressible);
    RUN(test_empty_and_zero_length);
    RUN(test_concat);
    RUN(test_truncation);
    RUN(test_corruption);
    RUN(test_bombs);
    RUN(test_snappy_framing);
    RUN(test_magic);
    RUN(test_next_errors);
    RUN(test_reuse);
    RUN(test_encode_errors);
    return TEST_DONE();
}
