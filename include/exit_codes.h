/*
 * exit_codes.h - the process's exit codes (sysexits), shared by the agent,
 * the command line and the port (which may fail before a run starts).
 *
 * 0 ok, 64 usage, 65 bad data from the server, 69 service unavailable for
 * a reason a retry will not fix (certificate or TLS handshake refused, no
 * such host name), 73 cannot write output, 75 temporary failure (5xx/429,
 * timeouts, refused or dropped connections after the retries; another run
 * holds the lock), 77 authentication or permission refused, 78
 * configuration; 128 + the signal's number after SIGTERM, SIGINT or SIGHUP
 * (README "Exit codes").
 */
#ifndef COUNTLY_SYNC_EXIT_CODES_H
#define COUNTLY_SYNC_EXIT_CODES_H

#define AGENT_EXIT_OK          0
#define AGENT_EXIT_USAGE       64
#define AGENT_EXIT_DATA        65
#define AGENT_EXIT_UNAVAILABLE 69
#define AGENT_EXIT_OUTPUT      73
#define AGENT_EXIT_TEMPFAIL    75
#define AGENT_EXIT_AUTH        77
#define AGENT_EXIT_CONFIG      78
#define AGENT_EXIT_SIGNAL_BASE 128 /* + the signal's number */

#endif /* COUNTLY_SYNC_EXIT_CODES_H */
