/* configdoc.c - `sluice config-doc`: the pipeline file reference, and a
 * validator for one pipeline file.
 *
 *   sluice config-doc [--output FILE]   the Markdown reference (docs/config.md)
 *   sluice config-doc --check FILE      parse FILE; print the normalized config
 *                                       (defaults filled in, secrets as ***) or
 *                                       the error, exit 2
 *
 * Both texts come from the key table in engine/config_table.c, so the
 * reference cannot drift from the parser; tests/e2e/0023-config-doc.sh fails
 * when the committed docs/config.md differs from this command's output.
 * --output writes a temporary file and renames it, so a failed write never
 * leaves a half-written reference.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/config.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice config-doc [--output FILE]\n"
               "       sluice config-doc --check PIPELINE.yaml\n\n"
               "Prints the pipeline file reference (Markdown), or with --check parses a pipeline\n"
               "file and prints the configuration sluice would run (defaults filled in, relative\n"
               "paths resolved, source.properties values shown as ***). Exit 2 when the file is\n"
               "invalid (the error names file:line:column, the key and what is expected).\n");
}

static int write_file(const char *path, const char *text)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) return 1;
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(text, 1, strlen(text), f) == strlen(text);
    if (f && fclose(f)) ok = 0;
    if (ok && rename(tmp, path)) ok = 0;
    if (!ok) {
        fprintf(stderr, "sluice config-doc: cannot write %s: %s\n", path, strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return ok ? 0 : 1;
}

int sl_cmd_config_doc(int argc, char **argv)
{
    const char *output = NULL, *check = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--output") && i + 1 < argc) {
            output = argv[++i];
        } else if (!strcmp(argv[i], "--check") && i + 1 < argc) {
            check = argv[++i];
        } else {
            fprintf(stderr, "sluice config-doc: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (check && output) {
        fprintf(stderr, "sluice config-doc: --check and --output do not go together\n");
        return 2;
    }
    if (check) {
        sl_cfg *c = NULL;
        sl_error err;
        sl_error_clear(&err);
        if (sl_cfg_load(&c, check, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 2;
        }
        char *y = sl_cfg_dump_yaml(c);
        sl_cfg_free(c);
        if (!y) {
            fprintf(stderr, "sluice config-doc: out of memory\n");
            return 1;
        }
        fputs(y, stdout);
        free(y);
        return 0;
    }
    char *md = sl_cfg_doc_markdown();
    if (!md) {
        fprintf(stderr, "sluice config-doc: out of memory\n");
        return 1;
    }
    int rc = 0;
    if (output)
        rc = write_file(output, md);
    else
        fputs(md, stdout);
    free(md);
    return rc;
}
