/*
 * main.c - the countly-sync command line (README "Command line"):
 *
 *   countly-sync [-c FILE] [--output DIR] [--state FILE] [-v|-q]
 *                [sync|check|version|help]
 */
#include <string.h>

#include "agent.h"
#include "options.h"
#include "port.h"

/* The one agent: every buffer of the program, allocated statically. */
static agent the_agent;

static const char USAGE[] = "usage: countly-sync [-c FILE] [--output DIR] [--state FILE] [-v|-q] "
                            "[sync|check|version|help]\n";

static const char HELP[] =
    "countly-sync " COUNTLY_SYNC_VERSION " - copy Countly apps, groups and users into CSV files\n"
    "\n"
    "commands:\n"
    "  sync      one run over the enabled streams (the default)\n"
    "  check     connect, authenticate and show what a sync would read; writes nothing\n"
    "  version   print the version\n"
    "  help      this text\n"
    "\n"
    "options:\n"
    "  -c FILE         configuration file (default ./configuration.json)\n"
    "  --output DIR    output folder (overrides output_dir)\n"
    "  --state FILE    state file (overrides state_file)\n"
    "  -v              debug messages\n"
    "  -q              errors only\n"
    "\n"
    "The API key may come from the environment variable COUNTLY_API_KEY.\n"
    "exit codes: 0 ok, 64 usage, 65 bad data from the server, 69 server unreachable or\n"
    "certificate refused, 73 cannot write output, 77 authentication refused,\n"
    "78 configuration error\n";

static void say(const char *text, int to_stdout)
{
    if (to_stdout)
        port_console_out(text, strlen(text));
    else
        port_console_err(text, strlen(text));
}

/* Parses argv into opts; returns 0, or the exit code to leave with. */
static int parse_args(int argc, char **argv, agent_options *opts, const char **command)
{
    opts->command = AGENT_SYNC;
    opts->config_path = "./configuration.json";
    opts->output_dir = NULL;
    opts->state_file = NULL;
    opts->level = LOG_NORMAL;
    opts->report_path = NULL;
    opts->metrics_path = NULL;
    opts->log_json = 0;
    *command = "sync";
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char **value = NULL;
        if (strcmp(arg, "-v") == 0) {
            opts->level = LOG_VERBOSE;
        } else if (strcmp(arg, "-q") == 0) {
            opts->level = LOG_QUIET;
        } else if (strcmp(arg, "-c") == 0) {
            value = &opts->config_path;
        } else if (strcmp(arg, "--output") == 0) {
            value = &opts->output_dir;
        } else if (strcmp(arg, "--state") == 0) {
            value = &opts->state_file;
        } else if (strcmp(arg, "--report") == 0) {
            value = &opts->report_path;
        } else if (strcmp(arg, "--metrics") == 0) {
            value = &opts->metrics_path;
        } else if (arg[0] != '-') {
            *command = arg;
        } else {
            say("countly-sync: unknown option: ", 0);
            say(arg, 0);
            say("\n", 0);
            return AGENT_EXIT_USAGE;
        }
        if (value != NULL) {
            if (i + 1 >= argc) {
                say("countly-sync: option needs a value\n", 0);
                return AGENT_EXIT_USAGE;
            }
            *value = argv[++i];
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    agent_options opts;
    const char *command;
    int code = parse_args(argc, argv, &opts, &command);
    if (code != 0) {
        say(USAGE, 0);
        return code;
    }
    if (strcmp(command, "version") == 0) {
        say("countly-sync " COUNTLY_SYNC_VERSION "\n", 1);
        return 0;
    }
    if (strcmp(command, "help") == 0) {
        say(HELP, 1);
        return 0;
    }
    if (strcmp(command, "check") == 0) {
        opts.command = AGENT_CHECK;
    } else if (strcmp(command, "sync") != 0) {
        say("countly-sync: unknown command: ", 0);
        say(command, 0);
        say("\n", 0);
        say(USAGE, 0);
        return AGENT_EXIT_USAGE;
    }
    code = port_start(); /* lwIP: the stack comes up here */
    if (code != 0)
        return code;
    return agent_run(&the_agent, &opts);
}
