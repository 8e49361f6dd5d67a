#!/usr/bin/python3
"""vgwire: an independent implementation of the vigil wire format (proto.h),
for crafting and checking packets in the integration tests.  Stdlib only.

It is written from the layout drawn in agent/proto.h, not from proto.c:
a 66-byte header in network byte order (versions 2 and 3; version 1's is
58 bytes, without epoch and conf_digest), a body whose length is fixed by
the type (in version 3 a heartbeat's by its count of sections), then the
first 16 bytes of HMAC-SHA256 (key: the key file's raw bytes) over every
byte before the MAC.

Version 4 is version 3's layout: a TRANSFER may carry FLAG_GRANTED (the
sender's vote for the target in term + 1; docs/design.md, "The vote in the
TRANSFER").

Version 3 (VIP groups): the header's group fields are group 0's; a
HEARTBEAT's body is echo_delay u32, n_sections u8, then one 22-byte
section per group 1.. in order (group u8, state u8, priority u8, flags u8:
SEC_LAPSED 0x1, SEC_HOLDING 0x2, term u64, active u16, echo_seq u64); the
bodies of VOTE_REQUEST, VOTE (after reason), RELEASE and TRANSFER end in
group u8.  As fields: "sections", a list of dicts (group, state, priority,
flags, term, active, echo_seq; missing ones from SECTION_DEFAULTS, group
from its place), "n_sections" (the count byte; None: len(sections)),
"group".

As a library:  encode(), decode(), mac_ok().
As a program (run inside a node's namespace with `ip netns exec`):

    vgwire.py send SPEC.json    send the packets SPEC describes from a UDP
                                socket bound to SPEC["src"] (any port), then
                                an optional barrier; prints a JSON summary
    vgwire.py sniff SPEC.json   capture UDP payloads on an interface
                                (AF_PACKET), bounded by a count and a timeout;
                                prints them as JSON hex strings

SPEC for send:
    {"src": "198.18.0.2", "dst": "198.18.0.1", "port": 5405,
     "packets": [ {"raw": "<hex>"} | {"key_file": PATH | "key_hex": HEX,
                  <field>: value, ...}, ... ],
     "barrier": true}
  Fields default to a valid HEARTBEAT (see DEFAULTS).  The barrier is one
  datagram with a wrong magic, sent last from the same socket: once the
  receiver has counted it as a "magic" drop, it has processed every packet
  sent before it (one socket, one path: datagrams stay in order).

SPEC for sniff:
    {"iface": "eth0", "src": "198.18.0.2", "dst": "198.18.0.1",
     "dport": 5405, "count": 1, "timeout": 2.0, "ready_line": false,
     "idle": null}
  It stops after `count` packets, after `timeout` seconds, or (idle) that
  many seconds after the last matching packet.
  Each packet comes with "t", time.monotonic() when it was read (the same
  CLOCK_MONOTONIC as the test's).  With ready_line, a first line
  {"ready": true} says the capture has begun (for a caller running us in the
  background); the result follows on the last line.
"""
import hashlib
import hmac
import json
import select
import socket
import struct
import sys
import time

MAGIC = 0x56474C31          # "VGL1"
VERSION = 4
HDR_LEN = 66
HDR_LEN_V1 = 58
MAC_LEN = 16
MAX_GROUPS = 16

HEARTBEAT, VOTE_REQUEST, VOTE, RELEASE, TRANSFER = 1, 2, 3, 4, 5
# versions 1 and 2; version 3 adds a byte to each (count of sections, group)
BODY_LEN = {HEARTBEAT: 4, VOTE_REQUEST: 0, VOTE: 2, RELEASE: 0, TRANSFER: 0}

FLAG_PRE, FLAG_GRANTED, FLAG_LAPSED = 0x0001, 0x0002, 0x0004
FLAG_HOLDING = 0x0008
FLAG_REPLY = 0x0010         # HEARTBEAT, version 3: an answer (proto.h)
# FLAG_GRANTED on a TRANSFER, version 4: and the sender's vote in term + 1
SEC_LAPSED, SEC_HOLDING = 0x01, 0x02     # a section's flags (version 3)

STATES = {"standby": 1, "candidate": 2, "active": 3, "fault": 4,
          "maintenance": 5, "no-quorum": 6}

# magic u32, version u8, type u8, flags u16, cluster_id u32, sender u16,
# target u16, state u8, priority u8, reserved u16 (digest_parts since issue
# 10: the parts hint, see parts_hint), term u64, incarnation u64,
# seq u64, echo_seq u64, active u16, config_digest u32 (the safety digest);
# version 2 then epoch u32, conf_digest u32 (the file's SHA-256, 32 bits)
HDR_V1 = struct.Struct(">IBBHIHHBBHQQQQHI")
assert HDR_V1.size == HDR_LEN_V1
HDR = struct.Struct(">IBBHIHHBBHQQQQHIII")
assert HDR.size == HDR_LEN
NAMES_V1 = ("magic", "version", "type", "flags", "cluster_id", "sender",
            "target", "state", "priority", "reserved", "term",
            "incarnation", "seq", "echo_seq", "active", "config_digest")
NAMES = NAMES_V1 + ("epoch", "conf_digest")
# version 3: a heartbeat's section, one per group after group 0
SECTION = struct.Struct(">BBBBQHQ")
assert SECTION.size == 22
SECTION_NAMES = ("group", "state", "priority", "flags", "term", "active",
                 "echo_seq")
SECTION_DEFAULTS = {"state": 1, "priority": 1, "flags": 0, "term": 0,
                    "active": 0, "echo_seq": 0}

DEFAULTS = {
    "magic": MAGIC, "version": VERSION, "type": HEARTBEAT, "flags": 0,
    "cluster_id": 0, "sender": 0, "target": 0, "state": STATES["standby"],
    "priority": 1, "reserved": 0, "term": 0, "incarnation": 1, "seq": 1,
    "echo_seq": 0, "active": 0, "config_digest": 0,
    "epoch": 0, "conf_digest": 0,   # version 2 only
    "echo_delay_us": 0,         # HEARTBEAT body
    "reason": 0,                # VOTE body
    "sections": (),             # HEARTBEAT body, version 3 only
    "n_sections": None,         # its count byte (None: len(sections))
    "group": 0,                 # VOTE_REQUEST, VOTE, RELEASE, TRANSFER;
                                # version 3 only
}


def parts_hint(parts):
    """The 16-bit hint of which safety part differs, as conf.c's
    vg_conf_parts_hint makes it from status's cluster.safety_parts (hex
    strings): bit 15, then the top 5 bits of each part digest times
    0x9e3779b1, membership, votes, timing from bit 0."""
    h = 0x8000
    for i, name in enumerate(("membership", "votes", "timing")):
        d = int(parts[name], 16)
        h |= (((d * 0x9e3779b1) & 0xffffffff) >> 27) << (5 * i)
    return h


def packet_len(mtype, version=VERSION, n_groups=1):
    """The length of a packet of this type (a heartbeat of n_groups)."""
    n = (HDR_LEN_V1 if version == 1 else HDR_LEN) + BODY_LEN[mtype] + MAC_LEN
    if version >= 3:
        n += 1
        if mtype == HEARTBEAT:
            n += (n_groups - 1) * SECTION.size
    elif n_groups != 1:
        raise ValueError("version %d carries one group" % version)
    return n


def _state(v):
    return STATES[v] if isinstance(v, str) else v


def _section(i, sec):
    s = dict(SECTION_DEFAULTS, group=i + 1)
    unknown = set(sec) - set(s)
    if unknown:
        raise ValueError("unknown section fields: %s" % sorted(unknown))
    s.update(sec)
    s["state"] = _state(s["state"])
    return SECTION.pack(*(s[k] for k in SECTION_NAMES))


def _mac(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()[:MAC_LEN]


def encode(key, **fields):
    """The packet for these fields (missing ones from DEFAULTS), signed with
    key (bytes), or with an all-zero MAC if key is None."""
    f = dict(DEFAULTS)
    unknown = set(fields) - set(f)
    if unknown:
        raise ValueError("unknown fields: %s" % sorted(unknown))
    f.update(fields)
    f["state"] = _state(f["state"])
    v3 = f["version"] >= 3
    if not v3 and (f["sections"] or f["n_sections"] is not None or
                   f["group"] != 0):
        raise ValueError("version %d has no groups" % f["version"])
    if f["version"] == 1:
        hdr = HDR_V1.pack(*(f[k] for k in NAMES_V1))
    else:
        hdr = HDR.pack(*(f[k] for k in NAMES))
    if f["type"] == HEARTBEAT:
        body = struct.pack(">I", f["echo_delay_us"])
        if v3:
            n = f["n_sections"]
            body += bytes([len(f["sections"]) if n is None else n])
            body += b"".join(_section(i, s)
                             for i, s in enumerate(f["sections"]))
    elif f["type"] == VOTE:
        body = struct.pack(">H", f["reason"])
        if v3:
            body += bytes([f["group"]])
    else:
        body = b"\0" * BODY_LEN.get(f["type"], 0)
        if v3 and f["type"] in BODY_LEN:
            body += bytes([f["group"]])
    data = hdr + body
    return data + (_mac(key, data) if key is not None else b"\0" * MAC_LEN)


def decode(buf):
    """The fields of a packet (no checks beyond the lengths), plus "mac"
    and "length".  A version 3 heartbeat's sections are dicts of
    SECTION_NAMES (flags as on the wire, SEC_*), there when the length is
    the one its count makes."""
    v1 = len(buf) > 4 and buf[4] == 1
    hdr, names = (HDR_V1, NAMES_V1) if v1 else (HDR, NAMES)
    if len(buf) < hdr.size + MAC_LEN:
        raise ValueError("short packet: %d bytes" % len(buf))
    f = dict(zip(names, hdr.unpack_from(buf, 0)))
    body = buf[hdr.size:-MAC_LEN]
    if f["version"] >= 3:
        if f["type"] == HEARTBEAT and len(body) >= 5:
            f["echo_delay_us"] = struct.unpack_from(">I", body)[0]
            f["n_sections"] = n = body[4]
            if len(body) == 5 + n * SECTION.size:
                f["sections"] = [
                    dict(zip(SECTION_NAMES,
                             SECTION.unpack_from(body, 5 + i * SECTION.size)))
                    for i in range(n)]
        elif f["type"] == VOTE and len(body) == 3:
            f["reason"] = struct.unpack_from(">H", body)[0]
            f["group"] = body[2]
        elif f["type"] in (VOTE_REQUEST, RELEASE, TRANSFER) and \
                len(body) == 1:
            f["group"] = body[0]
    elif f["type"] == HEARTBEAT and len(body) == 4:
        f["echo_delay_us"] = struct.unpack(">I", body)[0]
    elif f["type"] == VOTE and len(body) == 2:
        f["reason"] = struct.unpack(">H", body)[0]
    f["mac"] = buf[-MAC_LEN:].hex()
    f["length"] = len(buf)
    return f


def mac_ok(key, buf):
    return hmac.compare_digest(_mac(key, buf[:-MAC_LEN]), buf[-MAC_LEN:])


def barrier_packet():
    """A heartbeat-sized datagram with a wrong magic: dropped as "magic"."""
    return b"XXXX" + b"\0" * (packet_len(HEARTBEAT) - 4)


def _key_of(p):
    if "key_hex" in p:
        return bytes.fromhex(p["key_hex"])
    if "key_file" in p:
        with open(p["key_file"], "rb") as fh:
            return fh.read()
    return None


def build(spec_packets):
    out = []
    for p in spec_packets:
        if "raw" in p:
            out.append(bytes.fromhex(p["raw"]))
            continue
        fields = {k: v for k, v in p.items()
                  if k not in ("key_hex", "key_file")}
        out.append(encode(_key_of(p), **fields))
    return out


def cmd_send(spec):
    pkts = build(spec.get("packets", []))
    if spec.get("barrier"):
        pkts.append(barrier_packet())
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((spec["src"], 0))        # the claimed address, any port
        for p in pkts:
            s.sendto(p, (spec["dst"], int(spec["port"])))
        sport = s.getsockname()[1]
    finally:
        s.close()
    return {"sent": len(pkts), "sport": sport, "packets": [p.hex() for p in pkts]}


ETH_P_IP = 0x0800


def cmd_sniff(spec):
    count = int(spec.get("count", 1))
    timeout = float(spec.get("timeout", 2.0))
    src = socket.inet_aton(spec["src"]) if spec.get("src") else None
    dst = socket.inet_aton(spec["dst"]) if spec.get("dst") else None
    dport = spec.get("dport")
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                      socket.htons(ETH_P_IP))
    found = []
    try:
        s.bind((spec["iface"], ETH_P_IP))
        if spec.get("ready_line"):
            # tells a caller that runs us in the background we are capturing
            sys.stdout.write('{"ready": true}\n')
            sys.stdout.flush()
        idle = spec.get("idle")             # stop this long after the last
        last = time.monotonic()             # matching packet
        deadline = last + timeout
        for _ in range(100000):             # bounded in count and in time
            now = time.monotonic()
            left = deadline - now
            if idle is not None:
                left = min(left, last + float(idle) - now)
            if left <= 0 or len(found) >= count:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                break
            pkt, addr = s.recvfrom(65535)
            t_rx = time.monotonic()     # CLOCK_MONOTONIC, as the caller's
            if addr[2] == socket.PACKET_OUTGOING or len(pkt) < 28:
                continue
            ihl = (pkt[0] & 0x0F) * 4
            if pkt[0] >> 4 != 4 or pkt[9] != socket.IPPROTO_UDP:
                continue
            if (src and pkt[12:16] != src) or (dst and pkt[16:20] != dst):
                continue
            sp, dp, ulen = struct.unpack_from(">HHH", pkt, ihl)
            if dport is not None and dp != int(dport):
                continue
            last = t_rx
            found.append({"t": t_rx, "sport": sp, "dport": dp,
                          "payload": pkt[ihl + 8:ihl + ulen].hex()})
    finally:
        s.close()
    return {"packets": found}


def main(argv):
    if len(argv) != 3 or argv[1] not in ("send", "sniff"):
        sys.stderr.write("usage: vgwire.py send|sniff SPEC.json\n")
        return 2
    with open(argv[2]) as fh:
        spec = json.load(fh)
    res = cmd_send(spec) if argv[1] == "send" else cmd_sniff(spec)
    json.dump(res, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
