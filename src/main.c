/*
 * main.c - the countly-sync command line (SPEC "Command line"):
 *
 *   countly-sync [OPTIONS] [sync|check|version|help]
 *
 * GNU getopt_long conventions (glibc and musl both have it): "--opt value"
 * and "--opt=value", options before or after the command, "--" ends the
 * options. A usage error (an unknown or ambiguous option, a missing or
 * empty value, a bad --log-format, an unknown or a second command) exits
 * 64 with the usage line on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "options.h"
#include "port.h"

#include <mbedtls/build_info.h>
#if HTTP_GZIP
#include <zlib.h>
#endif

/* The one agent: every buffer of the program, allocated statically. */
static agent the_agent;

static const char USAGE[] =
    "usage: countly-sync [-c FILE] [-o DIR] [--state FILE] [-v|-q] [--log-format text|json]\n"
    "                    [--report FILE] [--metrics FILE] [sync|check|version|help]\n";

static const char HELP[] =
    "countly-sync " COUNTLY_SYNC_VERSION " - copy Countly apps, groups and users into CSV files\n"
    "\n"
    "usage: countly-sync [OPTIONS] [sync|check|version|help]\n"
    "\n"
    "commands:\n"
    "  sync      one run over the enabled streams (the default)\n"
    "  check     connect, authenticate and show what a sync would read; writes nothing\n"
    "  version   print the version and build facts\n"
    "  help      this text\n"
    "\n"
    "options (--opt value or --opt=value, before or after the command; -- ends them):\n"
    "  -c, --config FILE        configuration file (default ./configuration.json)\n"
    "  -o, --output DIR         output folder (overrides output_dir)\n"
    "      --state FILE         state file (overrides state_file)\n"
    "  -v, --verbose            more detail: debug lines; -vv: each HTTP exchange too\n"
    "  -q, --quiet              errors only\n"
    "      --log-format FORMAT  text (default) or json: one JSON object per line\n"
    "      --report FILE        after every sync write the run report (JSON) to FILE; - = stdout\n"
    "      --metrics FILE       after every sync write Prometheus metrics to FILE\n"
    "  -h, --help               this text\n"
    "  -V, --version            same as version\n"
    "\n"
    "The API key may come from the environment variable COUNTLY_API_KEY.\n"
    "\n"
    "exit codes:\n"
    "  0        ok: every enabled stream completed\n"
    "  64       usage error\n"
    "  65       bad data from the server (after the retries)\n"
    "  69       service unavailable: certificate or TLS refused, unknown host, proxy refused\n"
    "  73       cannot write the output\n"
    "  75       temporary failure (after the retries), or another run holds the lock\n"
    "  77       authentication or permission refused\n"
    "  78       configuration error\n"
    "  129      interrupted by SIGHUP\n"
    "  130/143  interrupted by SIGINT/SIGTERM\n";

/* What the command line asks for besides a run. */
typedef enum { CLI_RUN = 0, CLI_HELP, CLI_VERSION } cli_action;

/* Codes getopt_long returns for the long-only options. */
enum { OPT_STATE = 256, OPT_LOG_FORMAT, OPT_REPORT, OPT_METRICS };

static const struct option LONG_OPTIONS[] = {
    {"config", required_argument, NULL, 'c'},
    {"output", required_argument, NULL, 'o'},
    {"state", required_argument, NULL, OPT_STATE},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"report", required_argument, NULL, OPT_REPORT},
    {"metrics", required_argument, NULL, OPT_METRICS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Leading '-': every command word comes back in order as code 1, wherever
 * it stands (the same on glibc and musl, whatever POSIXLY_CORRECT says);
 * then ':': a missing value comes back as ':'. */
static const char SHORT_OPTIONS[] = "-:c:o:vqhV";

static void say(const char *text, int to_stdout)
{
    if (to_stdout)
        port_console_out(text, strlen(text));
    else
        port_console_err(text, strlen(text));
}

/* "countly-sync: WHAT: ARG" on stderr; returns the usage exit code. */
static int usage_error(const char *what, const char *arg)
{
    say("countly-sync: ", 0);
    say(what, 0);
    if (arg != NULL) {
        say(": ", 0);
        say(arg, 0);
    }
    say("\n", 0);
    return AGENT_EXIT_USAGE;
}

/* Takes one command word; a second one is a usage error. */
static int take_command(const char *word, const char **command)
{
    if (strcmp(word, "sync") != 0 && strcmp(word, "check") != 0 && strcmp(word, "version") != 0 &&
        strcmp(word, "help") != 0)
        return usage_error("unknown command", word);
    if (*command != NULL)
        return usage_error("two commands", word);
    *command = word;
    return 0;
}

/* The option getopt_long refused, as the user wrote it: a long one whole
 * (getopt_long has moved past it), a short one as -X. */
static const char *refused_option(int argc, char **argv, char *buf, size_t cap)
{
    const char *last = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    if (strncmp(last, "--", 2) == 0 || optopt == 0 || optopt >= 256)
        return last;
    (void)snprintf(buf, cap, "-%c", optopt);
    return buf;
}

/* 1 when arg is "--NAME=..." for a known option that takes no value. */
static int value_not_taken(const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (strncmp(arg, "--", 2) != 0 || eq == NULL)
        return 0;
    for (const struct option *o = LONG_OPTIONS; o->name != NULL; o++)
        if (o->has_arg == no_argument && strlen(o->name) == (size_t)(eq - arg - 2) &&
            strncmp(o->name, arg + 2, strlen(o->name)) == 0)
            return 1;
    return 0;
}

/* The long options arg ("--NAME" or "--NAME=VALUE") abbreviates, listed
 * into names as "--a, --b"; how many (0 when NAME is one of them whole). */
static int abbreviated_options(const char *arg, char *names, size_t cap)
{
    if (strncmp(arg, "--", 2) != 0)
        return 0;
    size_t len = strcspn(arg + 2, "=");
    int count = 0;
    size_t used = 0;
    names[0] = '\0';
    for (const struct option *o = LONG_OPTIONS; o->name != NULL; o++) {
        if (strncmp(o->name, arg + 2, len) != 0)
            continue;
        if (strlen(o->name) == len)
            return 0;
        int n = snprintf(names + used, cap - used, "%s--%s", count > 0 ? ", " : "", o->name);
        if (n > 0 && (size_t)n < cap - used)
            used += (size_t)n;
        count++;
    }
    return count;
}

/* Says why getopt_long refused an option ('?'): a prefix of two or more
 * long options, a value given to a flag, or one it does not know. */
static int option_refused(int argc, char **argv)
{
    char shown[8];
    char names[128];
    const char *arg = refused_option(argc, argv, shown, sizeof shown);
    if (abbreviated_options(arg, names, sizeof names) > 1) {
        char what[128];
        (void)snprintf(what, sizeof what, "option '%.*s' is ambiguous", (int)strcspn(arg, "="),
                       arg);
        return usage_error(what, names);
    }
    if (value_not_taken(arg))
        return usage_error("option takes no value", arg);
    return usage_error("unknown option", arg);
}

/* Takes the value of the option called name as *into; an empty one names
 * no file (what: "a file name", "a folder") and is a usage error. */
static int take_path(const char **into, const char *name, const char *what)
{
    if (optarg[0] == '\0') {
        char why[64];
        (void)snprintf(why, sizeof why, "option '%s' needs %s", name, what);
        return usage_error(why, NULL);
    }
    *into = optarg;
    return 0;
}

/* Applies one option getopt_long returned (not a command or an error). */
static int take_option(int c, agent_options *opts, cli_action *action)
{
    switch (c) {
    case 'c':
        return take_path(&opts->config_path, "--config", "a file name");
    case 'o':
        return take_path(&opts->output_dir, "--output", "a folder");
    case OPT_STATE:
        return take_path(&opts->state_file, "--state", "a file name");
    case 'v': /* of -q and -v the last one counts; -vv: every HTTP exchange too */
        opts->level = opts->level >= LOG_VERBOSE ? LOG_TRACE : LOG_VERBOSE;
        return 0;
    case 'q':
        opts->level = LOG_QUIET;
        return 0;
    case OPT_LOG_FORMAT:
        if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0)
            return usage_error("--log-format must be text or json, not", optarg);
        opts->log_json = strcmp(optarg, "json") == 0;
        return 0;
    case OPT_REPORT:
        return take_path(&opts->report_path, "--report", "a file name");
    case OPT_METRICS:
        return take_path(&opts->metrics_path, "--metrics", "a file name");
    case 'h':
        *action = CLI_HELP;
        return 0;
    case 'V':
        if (*action != CLI_HELP)
            *action = CLI_VERSION;
        return 0;
    default:
        return AGENT_EXIT_USAGE;
    }
}

/* Parses argv into opts and *action; returns 0, or the exit code to leave
 * with after one line saying what was wrong. */
static int parse_args(int argc, char **argv, agent_options *opts, cli_action *action)
{
    char shown[8];
    const char *command = NULL;
    memset(opts, 0, sizeof *opts);
    opts->command = AGENT_SYNC;
    opts->config_path = "./configuration.json";
    opts->level = LOG_NORMAL;
    *action = CLI_RUN;
    opterr = 0; /* the messages are ours */
    int c;
    int code = 0;
    while (code == 0 && (c = getopt_long(argc, argv, SHORT_OPTIONS, LONG_OPTIONS, NULL)) != -1)
        if (c == 1)
            code = take_command(optarg, &command);
        else if (c == ':')
            code = usage_error("option needs a value",
                               refused_option(argc, argv, shown, sizeof shown));
        else if (c == '?')
            code = option_refused(argc, argv);
        else
            code = take_option(c, opts, action);
    for (int i = optind; code == 0 && i < argc; i++) /* after "--" */
        code = take_command(argv[i], &command);
    if (code != 0 || command == NULL)
        return code;
    if (strcmp(command, "help") == 0)
        *action = CLI_HELP;
    else if (strcmp(command, "version") == 0 && *action == CLI_RUN)
        *action = CLI_VERSION;
    else if (strcmp(command, "check") == 0)
        opts->command = AGENT_CHECK;
    return 0;
}

/* The target the binary was built for, from the compiler's own macros. */
#if defined(__x86_64__)
#define BUILD_ARCH "x86_64"
#elif defined(__aarch64__)
#define BUILD_ARCH "aarch64"
#elif defined(__arm__) && defined(__ARM_PCS_VFP)
#define BUILD_ARCH "armhf"
#elif defined(__arm__)
#define BUILD_ARCH "arm"
#elif defined(__i386__)
#define BUILD_ARCH "i386"
#else
#define BUILD_ARCH "unknown-arch"
#endif
#if defined(__GLIBC__)
#define BUILD_LIBC "linux-gnu"
#elif defined(__linux__)
#define BUILD_LIBC "linux-musl" /* musl defines no macro of its own */
#else
#define BUILD_LIBC "unknown-os"
#endif

/* The small memory profile (Makefile SMALL=1) is the one built without
 * gzip and without the second thread. */
#if !HTTP_GZIP && !RELAY_THREADS
#define BUILD_PROFILE "small"
#else
#define BUILD_PROFILE "default"
#endif

/* version: the version on the first line, then the build facts. */
static void print_version(void)
{
    char text[512];
    (void)snprintf(text, sizeof text,
                   "countly-sync " COUNTLY_SYNC_VERSION "\n"
                   "target: " BUILD_ARCH "-" BUILD_LIBC "\n"
                   "memory profile: " BUILD_PROFILE
                   " (record buffer %u bytes, TLS arena %u bytes)\n"
                   "mbedTLS: " MBEDTLS_VERSION_STRING "\n"
#if HTTP_GZIP
                   "zlib: " ZLIB_VERSION "\n"
#else
                   "zlib: none (built without gzip)\n"
#endif
                   ,
                   (unsigned)JSTREAM_RECORD_MAX, (unsigned)TLS_ARENA_SIZE);
    say(text, 1);
}

int main(int argc, char **argv)
{
    agent_options opts;
    cli_action action;
    int code = parse_args(argc, argv, &opts, &action);
    if (code != 0) {
        say(USAGE, 0);
        return code;
    }
    if (action == CLI_HELP) {
        say(HELP, 1);
        return 0;
    }
    if (action == CLI_VERSION) {
        print_version();
        return 0;
    }
    code = port_start(); /* lwIP: the stack comes up here */
    if (code != 0)
        return code;
    return agent_run(&the_agent, &opts);
}
