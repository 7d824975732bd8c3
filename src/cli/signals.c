/* signals.c - SIGINT/SIGTERM for one-shot commands (gen, convert): the
 * handler only records the signal; the command's loop sees sl_cli_stop,
 * abandons its output (atomic files are unlinked, never published) and
 * exits 130. No SA_RESTART, so a blocked write(2) returns EINTR and the
 * loop gets to look at the flag. SIGXFSZ is ignored so that a file-size
 * limit is a write error with a message, not a silent kill. */
#include <signal.h>
#include <string.h>

#include "cli/cli.h"

volatile sig_atomic_t sl_cli_stop;

static void on_signal(int sig)
{
    sl_cli_stop = sig;
}

void sl_cli_trap_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGXFSZ, SIG_IGN);
}
