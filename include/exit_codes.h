/*
 * exit_codes.h - the process's exit codes (sysexits), shared by the agent,
 * the command line and the port (which may fail before a run starts).
 *
 * 0 ok, 64 usage, 65 bad data from the server, 69 server unreachable or its
 * certificate refused, 73 cannot write output, 77 authentication or
 * permission refused, 78 configuration (README "Exit codes").
 */
#ifndef COUNTLY_SYNC_EXIT_CODES_H
#define COUNTLY_SYNC_EXIT_CODES_H

#define AGENT_EXIT_OK          0
#define AGENT_EXIT_USAGE       64
#define AGENT_EXIT_DATA        65
#define AGENT_EXIT_UNAVAILABLE 69
#define AGENT_EXIT_OUTPUT      73
#define AGENT_EXIT_AUTH        77
#define AGENT_EXIT_CONFIG      78

#endif /* COUNTLY_SYNC_EXIT_CODES_H */
