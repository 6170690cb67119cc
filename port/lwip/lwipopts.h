/*
 * lwipopts.h - lwIP configuration of countly-sync: one TLS connection at a
 * time over IPv4 and Ethernet, every buffer in a static pool.
 *
 * Sizing: the agent holds one TCP connection (HTTPS keep-alive) and, after
 * a reconnect, at most one more pcb closing in the background. Requests
 * are small (an HTTP GET head under 2 KiB, TLS records under 4 KiB); the
 * downloads are long, so the receive side gets the memory. Options not set
 * here keep lwIP's defaults (src/include/lwip/opt.h). Each line says why.
 * The sizes marked #ifndef may be overridden with -D (make lwip CFLAGS=...).
 */
#ifndef COUNTLY_SYNC_LWIPOPTS_H
#define COUNTLY_SYNC_LWIPOPTS_H

/* ---- system ------------------------------------------------------------- */

/* An OS with threads: tcpip_thread + the sockets API (unix port: pthreads). */
#define NO_SYS 0
/* Protect lwIP's short critical sections through sys_arch_protect(). */
#define SYS_LIGHTWEIGHT_PROT 1
/* Socket calls take the core lock instead of messaging tcpip_thread: no
 * API message pool needed, one context switch less per call. */
#define LWIP_TCPIP_CORE_LOCKING 1
/* Received frames still go through tcpip_thread's mailbox (tapif thread). */
#define LWIP_TCPIP_CORE_LOCKING_INPUT 0

/* ---- memory: static heap and pools, never malloc ------------------------ */

/* lwIP's own heap and pools, not the C library's. */
#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0
/* 8 on 64-bit hosts (pointers in pool elements); 4 is enough on 32-bit MCUs. */
#ifndef MEM_ALIGNMENT
#define MEM_ALIGNMENT 8
#endif
/* The heap holds outgoing TCP data (TCP_SND_BUF, copied by lwip_send) with
 * headers, the tap state, the getaddrinfo result and ARP/ICMP replies. */
#ifndef MEM_SIZE
#define MEM_SIZE (6 * 1024)
#endif
/* Incoming frames: a full receive window plus the ACK/ARP traffic beside it. */
#ifndef PBUF_POOL_SIZE
#define PBUF_POOL_SIZE 10
#endif
/* One TCP connection plus one in TIME_WAIT/closing after a reconnect (lwIP
 * reclaims the oldest TIME_WAIT pcb when the pool is empty). */
#define MEMP_NUM_TCP_PCB 2
/* No server sockets; 1 because a zero-sized pool does not compile everywhere. */
#define MEMP_NUM_TCP_PCB_LISTEN 1
/* Unacked outgoing segments: TCP_SND_QUEUELEN of them. */
#define MEMP_NUM_TCP_SEG TCP_SND_QUEUELEN
/* One socket, one spare while the old one closes. */
#define MEMP_NUM_NETCONN 2
/* UDP/raw receive buffers: only DNS answers use UDP (consumed in place). */
#define MEMP_NUM_NETBUF 2
/* Referenced (non-copied) pbufs: ARP queueing and ICMP replies only. */
#define MEMP_NUM_PBUF 4
/* Mailbox messages for received frames: one per pool pbuf in flight. */
#define MEMP_NUM_TCPIP_MSG_INPKT PBUF_POOL_SIZE
/* API messages: rare with core locking (DNS, netifapi, callbacks). */
#define MEMP_NUM_TCPIP_MSG_API 4
/* lwip_poll/lwip_select waiters: the agent thread only. */
#define MEMP_NUM_SELECT_CB 2
/* Packets waiting for an ARP answer (the first SYN, a DNS query). */
#define MEMP_NUM_ARP_QUEUE 2

/* ---- network layers ----------------------------------------------------- */

/* IPv4: the only IP version built in. */
#define LWIP_IPV4 1
/* IPv4 only: the gateways' Countly servers are reached over IPv4. */
#define LWIP_IPV6 0
/* Ethernet framing and ARP for the tap/MAC driver. */
#define LWIP_ARP      1
#define LWIP_ETHERNET 1
/* Gateway + server: the only peers on the link. */
#define ARP_TABLE_SIZE 4
/* Hold the first packet(s) to a host until ARP resolves it. */
#define ARP_QUEUEING 1
/* Answer pings: cheap and the first thing an operator tries. */
#define LWIP_ICMP 1
/* No fragments: TCP segments fit the MTU (TCP_MSS) and DNS answers are small. */
#define IP_REASSEMBLY 0
#define IP_FRAG       0
/* Static address from the environment (port/lwip/main_lwip.c); no DHCP/AutoIP. */
#define LWIP_DHCP   0
#define LWIP_AUTOIP 0
#define LWIP_ACD    0
/* No multicast, raw sockets or loopback interface. */
#define LWIP_IGMP           0
#define LWIP_RAW            0
#define LWIP_NETIF_LOOPBACK 0
#define LWIP_HAVE_LOOPIF    0

/* ---- DNS (optional: 0 = IP literals only, and no UDP) -------------------- */

#ifndef LWIP_DNS
#define LWIP_DNS 1
#endif
/* UDP exists for DNS only. */
#define LWIP_UDP LWIP_DNS
/* One query at a time (the agent resolves once per connection); each
 * query uses its own random source port, hence one UDP pcb. */
#define DNS_MAX_REQUESTS 1
#define MEMP_NUM_UDP_PCB 1
/* The server's name and one more entry. */
#define DNS_TABLE_SIZE 2
/* The server set by COUNTLY_LWIP_DNS. */
#define DNS_MAX_SERVERS 1

/* ---- TCP ---------------------------------------------------------------- */

/* HTTPS runs over TCP. */
#define LWIP_TCP 1
/* Ethernet MTU 1500 - 40 bytes of IPv4 + TCP headers. Set here, before any
 * C library header can define its own (glibc's <netinet/tcp.h> says 512). */
#define TCP_MSS 1460
/* Receive window: 4 segments keep a LAN link busy and fit PBUF_POOL_SIZE
 * with room for the ACKs, ARP and out-of-order segments beside them. */
#ifndef TCP_WND
#define TCP_WND (4 * TCP_MSS)
#endif
/* Send buffer: a TLS record of the 4 KiB output buffer plus headers. */
#ifndef TCP_SND_BUF
#define TCP_SND_BUF (3 * TCP_MSS)
#endif
/* Keep out-of-order segments (lossy WAN links), at most 4 pbufs of them. */
#define TCP_QUEUE_OOSEQ     1
#define TCP_OOSEQ_MAX_PBUFS 4
/* The stack's own keep-alive is not needed: the agent has timeouts. */
#define LWIP_TCP_KEEPALIVE 0
/* Random first local port: a restarted agent does not reuse the last tuple. */
#define LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS 1
/* Random initial sequence numbers instead of lwIP's counter, which starts
 * at the same value on every start (port_lwip_rand32: getrandom). */
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) port_lwip_rand32()

/* ---- sequential and socket API -------------------------------------------- */

#define LWIP_NETCONN 1
#define LWIP_SOCKET  1
/* lwip_* names only: no socket()/connect() macros clashing with libc's. */
#define LWIP_COMPAT_SOCKETS         0
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
/* recv()/send() timeouts (SO_RCVTIMEO, SO_SNDTIMEO) with struct timeval. */
#define LWIP_SO_RCVTIMEO 1
#define LWIP_SO_SNDTIMEO 1
/* lwip_poll waits for a non-blocking connect; select is not used. */
#define LWIP_SOCKET_POLL   1
#define LWIP_SOCKET_SELECT 0
/* Mailboxes (the unix port ignores the sizes; an RTOS port needs them). */
#define TCPIP_MBOX_SIZE           16
#define DEFAULT_TCP_RECVMBOX_SIZE 8
#define DEFAULT_UDP_RECVMBOX_SIZE 2
#define DEFAULT_ACCEPTMBOX_SIZE   1
/* Thread stacks: the unix port uses the pthread default (0 = default). */
#define TCPIP_THREAD_STACKSIZE   0
#define DEFAULT_THREAD_STACKSIZE 0

/* ---- statistics and debugging ------------------------------------------- */

/* No statistics counters (RAM and code). */
#define LWIP_STATS         0
#define LWIP_STATS_DISPLAY 0

#endif /* COUNTLY_SYNC_LWIPOPTS_H */
