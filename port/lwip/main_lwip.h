/*
 * main_lwip.h - the lwIP build renames src/main.c's main to
 * countly_sync_main (-Dmain=countly_sync_main, this header forced in with
 * -include) so that port/lwip/main_lwip.c can start the stack first.
 */
#ifndef COUNTLY_SYNC_MAIN_LWIP_H
#define COUNTLY_SYNC_MAIN_LWIP_H

/* The countly-sync command line (src/main.c). */
int countly_sync_main(int argc, char **argv);

#endif /* COUNTLY_SYNC_MAIN_LWIP_H */
