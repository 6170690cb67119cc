/*
 * main.c - countly-sync command line.
 */
#include <string.h>

#include "options.h"
#include "port.h"

static void say(const char *text)
{
    port_console_out(text, strlen(text));
}

static void usage(void)
{
    const char *text = "usage: countly-sync [-c FILE] [--output DIR] [--state FILE] [-v|-q] "
                       "[sync|check|version|help]\n";
    port_console_err(text, strlen(text));
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "version") == 0) {
        say("countly-sync " COUNTLY_SYNC_VERSION "\n");
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "help") == 0) {
        usage();
        return 0;
    }
    usage();
    return 64;
}
