/* cli_util.c - small helpers shared by the commands that read a
 * pipeline's state and lake (audit, dlq, partitions). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/rows_json.h"
#include "engine/config.h"

int sl_cli_parse_hour(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi = 0, se = 0, n = 0, n2 = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d%n", &y, &mo, &d, &h, &n) != 4 || n != 13) return -1;
    if (s[n] && (sscanf(s + n, ":%2d:%2dZ%n", &mi, &se, &n2) != 2 || s[n + n2] || mi || se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || h < 0) return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h};
    *ms = (int64_t)timegm(&tm) * 1000;
    return 0;
}

void sl_cli_fmt_hour(char *out, size_t cap, int64_t hour)
{
    time_t t = (time_t)(hour / 1000 - (hour % 1000 < 0));
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, cap, "dt=%04d-%02d-%02d/hour=%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour);
}

int sl_cli_read_instance(const sl_cfg *cfg, char out[9])
{
    char path[4200];
    snprintf(path, sizeof path, "%s/instance", cfg->state_dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int ok = fscanf(f, "%8s", out) == 1 && strlen(out) == 8;
    fclose(f);
    return ok ? 0 : -1;
}

void sl_cli_put_json_str(const char *s)
{
    sl_buf b = SL_BUF_INIT;
    if (s && !sl_json_put_str(&b, s, strlen(s)))
        fwrite(b.p, 1, b.len, stdout);
    else
        fputs("null", stdout);
    sl_buf_free(&b);
}
