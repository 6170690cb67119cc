#!/usr/bin/env python3
"""dns_answer.py BIND_IP NAME IPV4 - a one-name DNS server for tests/lwip.

Listens on BIND_IP:53/udp (inside the test's own network namespace only),
answers A queries for NAME with IPV4 and everything else with NXDOMAIN.
Prints "ready" once bound; logs each query as "query NAME TYPE from IP"
on stderr.
"""

import socket
import struct
import sys


def question_end(packet):
    """Offset just past the first question's QTYPE/QCLASS, and its name."""
    i, labels = 12, []
    while packet[i]:
        n = packet[i]
        labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return i + 5, ".".join(labels).lower()


def answer(packet, name, ipv4):
    """The response to one query packet."""
    tid, flags = struct.unpack(">HH", packet[:4])
    end, qname = question_end(packet)
    qtype = struct.unpack(">H", packet[end - 4:end - 2])[0]
    found = qname == name and qtype == 1
    rd = flags & 0x0100
    header = struct.pack(">HHHHHH", tid, 0x8080 | rd | (0 if found else 3), 1, 1 if found else 0, 0, 0)
    body = packet[12:end]
    if found:
        body += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(ipv4)
    return header + body, qname, qtype


def main(bind_ip, name, ipv4):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((bind_ip, 53))
    print("ready", flush=True)
    while True:
        packet, peer = sock.recvfrom(512)
        try:
            reply, qname, qtype = answer(packet, name.lower(), ipv4)
        except (IndexError, struct.error):
            continue
        sys.stderr.write("query %s %d from %s\n" % (qname, qtype, peer[0]))
        sys.stderr.flush()
        sock.sendto(reply, peer)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
