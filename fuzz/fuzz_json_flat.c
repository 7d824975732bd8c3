/* fuzz_json_flat.c - libFuzzer target for the flat JSON line reader
 * (core/json_flat.h), which reads the audit log and dead letters as JSON
 * lines back: files an operator may edit or a crash may cut.
 *
 * The input is one line (cut at the first NUL). Every key the readers look
 * up is asked for, into a buffer sized like theirs and into a tiny one: the
 * reader must never read or write out of bounds, must NUL-terminate what it
 * returns as a string, and a string must fit its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_flat.h"

static const char *const keys[] = {
    "kind",   "stream",          "id", "read", "raw_base64", "offset", "hour",
    "reason", "kafka_timestamp", "",   "\\"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    if (!line) return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    size_t caps[2] = {size + 1, 4};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        for (int c = 0; c < 2; c++) {
            char *str = malloc(caps[c]);
            if (!str) break;
            int64_t num = 0;
            int r = sl_jflat_get(line, keys[k], str, caps[c], &num);
            if (r == 's' && strlen(str) >= caps[c]) abort();
            if (r != 0 && r != 's' && r != 'n' && r != '0') abort();
            free(str);
        }
    free(line);
    return 0;
}
