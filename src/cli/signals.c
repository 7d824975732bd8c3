/* signals.c - SIGINT/SIGTERM for one-shot commands (gen, convert) and
 * `run` (a final checkpoint); SIGHUP for `run` (reload). For the former the
 * handler only records the signal; the command's loop sees sl_cli_stop,
 * abandons its output (atomic files are unlinked, never published) and
 * exits 130. No SA_RESTART, so a blocked write(2) returns EINTR and the
 * loop gets to look at the flag. SIGXFSZ is ignored so that a file-size
 * limit is a write error with a message, not a silent kill. */
#include <signal.h>
#include <string.h>

#include "cli/cli.h"

volatile sig_atomic_t sl_cli_stop;
volatile sig_atomic_t sl_cli_reload;

static void on_signal(int sig)
{
    sl_cli_stop = sig;
}

static void on_hup(int sig)
{
    (void)sig;
    sl_cli_reload = 1;
}

/* No SA_RESTART (see the top). */
static void trap(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

void sl_cli_trap_reload(void)
{
    trap(SIGHUP, on_hup);
}

void sl_cli_trap_signals(void)
{
    trap(SIGINT, on_signal);
    trap(SIGTERM, on_signal);
    signal(SIGXFSZ, SIG_IGN);
}
