/* fault.c - see fault.h. The environment is read once; counting is atomic so
 * points reached from several threads count each hit once. */
#include "core/fault.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char target[128];
static long target_n = 1;
static const char *log_path, *enospc_path;
static int active;
static atomic_long hits;

static void init(void)
{
    const char *f = getenv("SL_FAULT");
    log_path = getenv("SL_FAULT_LOG");
    enospc_path = getenv("SL_FAULT_ENOSPC");
    if (f && *f) {
        snprintf(target, sizeof target, "%s", f);
        char *colon = strchr(target, ':');
        if (colon) {
            *colon = '\0';
            target_n = atol(colon + 1);
            if (target_n < 1) target_n = 1;
        }
        active = 1;
    }
    if (log_path && *log_path) active = 1;
}

void sl_fault_point(const char *name)
{
    pthread_once(&once, init);
    if (!active) return;
    if (log_path && *log_path) {
        FILE *f = fopen(log_path, "a");
        if (f) {
            fprintf(f, "%s\n", name);
            fclose(f);
        }
    }
    if (target[0] && !strcmp(name, target) && atomic_fetch_add(&hits, 1) + 1 == target_n) {
        fprintf(stderr, "sluice: fault point %s reached (hit %ld): SIGKILL\n", name, target_n);
        kill(getpid(), SIGKILL);
    }
}

int sl_fault_error(const char *name, const char *path)
{
    (void)name;
    pthread_once(&once, init);
    if (!enospc_path || !*enospc_path) return 0;
    FILE *f = fopen(enospc_path, "r");
    if (!f) return 0;
    char only[1024];
    size_t n = fread(only, 1, sizeof only - 1, f);
    fclose(f);
    only[n] = '\0';
    only[strcspn(only, "\n")] = '\0';
    return !only[0] || (path && strstr(path, only));
}
