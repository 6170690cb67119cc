#!/usr/bin/env python3
"""Deterministic test body pattern shared by the test servers and the runner.

Definition (the single source of truth for every body the tests compare):

    byte(i) = 0x21 + ((i * 31 + 7) % 251) % 94        for i = 0, 1, 2, ...

i.e. printable ASCII from '!' (0x21) to '~' (0x7e).  The sequence has a
period of 251 bytes, which lets us stream arbitrarily long bodies by slicing
one precomputed block instead of building them in memory.

Command line:
    python3 pattern.py N            write the first N bytes to stdout
    python3 pattern.py --sha256 N   print the hex sha256 of the first N bytes
    python3 pattern.py --sha256 --repeat R N
                                    sha256 of the first N bytes repeated R times
"""

import hashlib
import sys

PERIOD = 251
_BASE = bytes(0x21 + ((i * 31 + 7) % PERIOD) % 94 for i in range(PERIOD))
# A block long enough that any slice of up to _MAX_SLICE bytes starting at
# any phase (< PERIOD) is contiguous inside it.
_MAX_SLICE = 64 * 1024
_BLOCK = _BASE * (_MAX_SLICE // PERIOD + 2)


def byte_at(i):
    """Return the pattern byte (an int) at absolute offset i."""
    return 0x21 + ((i * 31 + 7) % PERIOD) % 94


def pieces(offset, length, max_piece=_MAX_SLICE):
    """Yield bytes objects covering pattern[offset:offset+length].

    Each piece is at most max_piece (and at most 64 KiB) bytes long, so the
    memory used does not depend on length.
    """
    max_piece = max(1, min(max_piece, _MAX_SLICE))
    end = offset + length
    while offset < end:
        n = min(max_piece, end - offset)
        phase = offset % PERIOD
        yield _BLOCK[phase:phase + n]
        offset += n


def pattern(offset, length):
    """Return pattern[offset:offset+length] as one bytes object (small sizes)."""
    return b"".join(pieces(offset, length))


def sha256_hex(length, repeat=1):
    """Hex sha256 of the first `length` pattern bytes, repeated `repeat` times."""
    digest = hashlib.sha256()
    for _ in range(repeat):
        for piece in pieces(0, length):
            digest.update(piece)
    return digest.hexdigest()


def main(argv):
    """Command-line entry point; see the module docstring."""
    args = list(argv)
    want_sha = False
    repeat = 1
    if args and args[0] == "--sha256":
        want_sha = True
        args.pop(0)
        if len(args) >= 2 and args[0] == "--repeat":
            repeat = int(args[1])
            del args[:2]
    if len(args) != 1 or not args[0].isdigit():
        sys.stderr.write(__doc__)
        return 2
    length = int(args[0])
    if want_sha:
        print(sha256_hex(length, repeat))
        return 0
    out = sys.stdout.buffer
    for piece in pieces(0, length):
        out.write(piece)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
