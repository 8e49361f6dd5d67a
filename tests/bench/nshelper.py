"""Small tools that bench.py runs inside the bench's network namespaces
(`ip netns exec NS /usr/bin/python3 nshelper.py MODE ...`).  Stdlib only.
Every mode is bounded: it exits by itself after MAX_S seconds, on EOF on
stdin (the interactive ones), or when bench.py ends it by PID.

  echo NAME MAX_S       UDP responder on 0.0.0.0:7777: answers every probe
                        with "NAME <probe>", from the address the probe was
                        sent to (IP_PKTINFO), so the reply comes from the VIP.
  client MAX_S          the probing client: reads one JSON command per line
                        on stdin, answers with JSON lines on stdout (below).
  link MAX_S            link up/down by rtnetlink: "down IFNAME" / "up IFNAME"
                        on stdin; answers {"t0", "t1", "err"} (CLOCK_MONOTONIC
                        just before the request and after its ack).
  udpsniff PORT MAX_S   every UDP datagram to or from PORT entering the
                        bridge from a node (AF_PACKET on all of this
                        namespace's ports, incoming frames only, so each
                        datagram once, when its sender's veth delivered it):
                        a JSON line {t, src, dst, type, flags, sender,
                        target, term, state} per vigil packet.
  addrmon FILE MAX_S    follows the first and the last address of FILE (one
                        a line) in this namespace by rtnetlink
                        (RTNLGRP_IPV4_IFADDR, a BPF filter lets only those
                        two through); prints a JSON line for every
                        appearance/removal of one, and whenever the number
                        of them present reaches or leaves 0 or both.

All times are time.monotonic() (CLOCK_MONOTONIC), which every namespace
shares, so bench.py can subtract them from its own.  addrmon runs at
SCHED_FIFO 29, above the agents and keepers (as the VIP sampler does): at
normal priority its stamps lagged by up to 2 ms, so that a removal was
often stamped after the add on the other node; the BPF filter leaves it
two addresses' notifications to read, whatever the number of VIPs.
Everything else here runs at normal priority.
"""
import errno
import json
import os
import select
import socket
import struct
import sys
import time

PORT = 7777
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
mono = time.monotonic


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- echo

def echo(name, max_s):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.bind(("0.0.0.0", PORT))
    s.settimeout(1.0)
    deadline = mono() + max_s
    nm = name.encode()
    cspace = socket.CMSG_SPACE(12)
    out({"ready": True})
    while mono() < deadline:
        try:
            data, anc, _fl, addr = s.recvmsg(512, cspace)
        except socket.timeout:
            continue
        dst = None
        for lvl, typ, val in anc:
            if lvl == socket.IPPROTO_IP and typ == IP_PKTINFO and \
                    len(val) >= 12:
                dst = val[8:12]             # ipi_addr: where it was sent to
        cm = []
        if dst is not None:
            cm = [(socket.IPPROTO_IP, IP_PKTINFO,
                   struct.pack("@i4s4s", 0, dst, b"\0\0\0\0"))]
        try:
            s.sendmsg([nm + b" " + data[:64]], cm, 0, addr)
        except OSError:
            pass                            # the VIP just left: no route


# ---------------------------------------------------------------- client

def client(max_s):
    """Commands (one JSON object per line on stdin):
      {"cmd": "probe", "targets": [ip, ...], "old": NAME, "prime_s": s,
       "timeout_s": s, "period_s": 0.001}
        probes every target every period; prints {"ready": true, ...} once
        every target has answered from `old` (or {"ready": false} after
        prime_s), then keeps probing until every target has answered from a
        node other than `old` and prints {"done": true, "first": {...}}
        (or "done": false after timeout_s).
      {"cmd": "quit"}"""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    s.setblocking(False)
    deadline = mono() + max_s
    out({"ready_client": True})
    for _ in range(100000):
        left = deadline - mono()
        if left <= 0:
            return
        r, _, _ = select.select([sys.stdin], [], [], min(left, 5.0))
        if not r:
            continue
        line = sys.stdin.readline()
        if not line:
            return
        try:
            cmd = json.loads(line)
        except ValueError:
            out({"error": "bad command %r" % line[:80]})
            continue
        if cmd.get("cmd") == "quit":
            return
        if cmd.get("cmd") == "probe":
            out(probe_session(s, cmd))
        else:
            out({"error": "unknown command"})


def probe_session(s, cmd):
    targets = list(cmd["targets"])
    old = cmd.get("old") or ""
    period = float(cmd.get("period_s", 0.001))
    prime_s = float(cmd.get("prime_s", 1.0))
    timeout_s = float(cmd.get("timeout_s", 3.0))
    tidx = {t: i for i, t in enumerate(targets)}
    sent = {}                   # seq -> send time
    seq = 0
    n_recv = 0
    per_name = {}
    old_ok = set()
    first_new = {}              # target -> {name, t_recv, t_sent, seq}
    last_old = {}               # target -> t_recv of the last reply of old
    t_start = mono()
    t_ready = None
    nxt = t_start
    # drain stale replies of an earlier session
    for _ in range(10000):
        try:
            s.recvfrom(512)
        except (BlockingIOError, InterruptedError):
            break
    max_probes = int((prime_s + timeout_s) / period) + 10
    for _ in range(max_probes * 4 + 100000):
        now = mono()
        if t_ready is None and now - t_start > prime_s:
            return {"done": False, "ready": False, "names": per_name,
                    "sent": seq, "recv": n_recv}
        if t_ready is not None and now - t_ready > timeout_s:
            return {"done": False, "ready": True, "first": first_new,
                    "last_old": last_old, "names": per_name, "sent": seq,
                    "recv": n_recv}
        if now >= nxt:
            if seq < max_probes * len(targets):
                for t in targets:
                    seq += 1
                    sent[seq] = mono()
                    try:
                        s.sendto(b"%d %d" % (seq, tidx[t]), (t, PORT))
                    except OSError:
                        pass
            nxt += period
            if nxt < now - 5 * period:      # fell behind: no burst
                nxt = now + period
        r, _, _ = select.select([s], [], [], max(0.0, nxt - mono()))
        if not r:
            continue
        for _ in range(256):
            try:
                data, addr = s.recvfrom(512)
            except (BlockingIOError, InterruptedError):
                break
            tr = mono()
            parts = data.split()
            if len(parts) < 3:
                continue
            try:
                name = parts[0].decode()
                rseq = int(parts[1])
                ti = int(parts[2])
            except ValueError:
                continue
            if ti >= len(targets) or addr[0] != targets[ti]:
                continue                    # not from the VIP it was sent to
            n_recv += 1
            per_name[name] = per_name.get(name, 0) + 1
            tgt = targets[ti]
            if name == old:
                old_ok.add(tgt)
                last_old[tgt] = tr
            elif tgt not in first_new and t_ready is not None:
                first_new[tgt] = {"name": name, "t_recv": tr,
                                  "t_sent": sent.get(rseq), "seq": rseq}
        if t_ready is None and (len(old_ok) == len(targets) or not old):
            t_ready = mono()
            out({"ready": True, "t": t_ready})
        if t_ready is not None and len(first_new) == len(targets):
            return {"done": True, "first": first_new, "last_old": last_old,
                    "names": per_name, "sent": seq, "recv": n_recv,
                    "t_ready": t_ready}
    return {"done": False, "ready": t_ready is not None, "error": "loop bound"}


# ---------------------------------------------------------------- rtnetlink

NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 16, 20, 21, 22
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
IFF_UP = 1
RTMGRP_IPV4_IFADDR = 0x10
IFA_ADDRESS, IFA_LOCAL = 1, 2


def nl_socket(groups=0):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)    # SO_RCVBUFFORCE
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((0, groups))
    return s


def nl_msgs(data):
    off = 0
    for _ in range(100000):
        if off + 16 > len(data):
            return
        ln, typ, fl, sq, pid = struct.unpack_from("=IHHII", data, off)
        if ln < 16 or off + ln > len(data):
            return
        yield typ, data[off + 16:off + ln]
        off += (ln + 3) & ~3


def link(max_s):
    s = nl_socket()
    deadline = mono() + max_s
    seq = 0
    out({"ready": True})
    for _ in range(100000):
        left = deadline - mono()
        if left <= 0:
            return
        r, _, _ = select.select([sys.stdin], [], [], min(left, 5.0))
        if not r:
            continue
        line = sys.stdin.readline()
        if not line:
            return
        parts = line.split()
        if len(parts) != 2 or parts[0] not in ("up", "down"):
            out({"err": "usage: up|down IFNAME"})
            continue
        try:
            idx = socket.if_nametoindex(parts[1])
        except OSError as e:
            out({"err": str(e)})
            continue
        seq += 1
        body = struct.pack("=BxHiII", 0, 0, idx,
                           IFF_UP if parts[0] == "up" else 0, IFF_UP)
        msg = struct.pack("=IHHII", 16 + len(body), RTM_NEWLINK,
                          NLM_F_REQUEST | NLM_F_ACK, seq, 0) + body
        t0 = mono()
        s.send(msg)
        err = "no ack"
        for _ in range(16):
            data = s.recv(65536)
            for typ, payload in nl_msgs(data):
                if typ == NLMSG_ERROR:
                    code = struct.unpack_from("=i", payload)[0]
                    err = None if code == 0 else os.strerror(-code)
                    break
            if err != "no ack":
                break
        t1 = mono()
        out({"t0": t0, "t1": t1, "err": err})


def parse_addr(payload):
    """(ifindex, address string) of an ifaddrmsg, IPv4 only."""
    if len(payload) < 8:
        return None
    fam, plen, fl, scope, idx = struct.unpack_from("=BBBBi", payload)
    if fam != socket.AF_INET:
        return None
    off, local, addr = 8, None, None
    for _ in range(64):
        if off + 4 > len(payload):
            break
        alen, atyp = struct.unpack_from("=HH", payload, off)
        if alen < 4:
            break
        val = payload[off + 4:off + alen]
        if atyp == IFA_LOCAL and len(val) == 4:
            local = socket.inet_ntoa(val)
        elif atyp == IFA_ADDRESS and len(val) == 4:
            addr = socket.inet_ntoa(val)
        off += (alen + 3) & ~3
    return idx, local or addr


def addr_dump():
    s = nl_socket()
    try:
        body = struct.pack("=BBBBi", socket.AF_INET, 0, 0, 0, 0)
        s.send(struct.pack("=IHHII", 16 + len(body), RTM_GETADDR,
                           NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + body)
        present = set()
        for _ in range(10000):
            data = s.recv(1 << 20)
            for typ, payload in nl_msgs(data):
                if typ == NLMSG_DONE:
                    return present
                if typ == RTM_NEWADDR:
                    pa = parse_addr(payload)
                    if pa and pa[1]:
                        present.add(pa[1])
        return present
    finally:
        s.close()


def attach_filter(sock, addrs):
    """A classic BPF filter on the notification socket: only messages whose
    first attribute (IFA_ADDRESS, at offset 16 + 8 + 4) is one of `addrs`
    reach us, so that the 1000 notifications of a VIP batch (and of every
    lifetime refresh) do not wake this process: it would take CPU from the
    agent under test.  False if the kernel refused it."""
    import ctypes
    ins = [(0x20, 0, 0, 28)]                # ld [28] (a word, big-endian)
    n = len(addrs)
    for i, a in enumerate(addrs):
        k = int.from_bytes(socket.inet_aton(a), "big")
        ins.append((0x15, n - i, 0, k))     # jeq #k, accept
    ins.append((0x06, 0, 0, 0))             # ret #0: drop
    ins.append((0x06, 0, 0, 0x40000))       # accept: ret #256 KiB
    prog = b"".join(struct.pack("=HBBI", *x) for x in ins)
    buf = ctypes.create_string_buffer(prog)
    fprog = struct.pack("=HxxxxxxQ", len(ins), ctypes.addressof(buf))
    try:
        sock.setsockopt(socket.SOL_SOCKET, 26, fprog)   # SO_ATTACH_FILTER
    except OSError:
        return False
    return True


# A monitor's timestamps are true only if it reads a notification as it
# comes: real-time above the agents (SCHED_RR 20) and keepers (21), like
# the VIP sampler; it sleeps in recv, and RLIMIT_RTTIME (SIGXCPU at 0.5 s
# of real-time CPU without a sleep, SIGKILL at 1 s) stops a runaway.
MON_RT_PRIORITY = 29
MON_RTTIME_US = 1000000


def realtime():
    import resource
    try:
        resource.setrlimit(resource.RLIMIT_RTTIME,
                           (MON_RTTIME_US // 2, MON_RTTIME_US))
        os.sched_setscheduler(0, os.SCHED_FIFO,
                              os.sched_param(MON_RT_PRIORITY))
        return "SCHED_FIFO %d" % MON_RT_PRIORITY
    except (OSError, AttributeError, ValueError) as e:
        return "default (%s)" % e


def addrmon(path, max_s):
    policy = realtime()
    with open(path) as fh:
        vips = [x.strip() for x in fh if x.strip()]
    watched = [vips[0], vips[-1]] if len(vips) > 1 else [vips[0]]
    # only the watched addresses are followed: "all" means the first and
    # the last VIP of the config are both present
    vipset = set(watched)
    n_all = len(vipset)
    mon = nl_socket(RTMGRP_IPV4_IFADDR)
    filtered = attach_filter(mon, sorted(vipset))
    present = addr_dump() & vipset

    def cls(n):
        return "none" if n == 0 else ("all" if n == n_all else "some")

    out({"ev": "ready", "t": mono(), "n": len(present), "n_all": n_all,
         "filtered": filtered, "policy": policy,
         "watched": {w: (w in present) for w in watched}})
    deadline = mono() + max_s
    mon.settimeout(1.0)
    for _ in range(100000000):
        if mono() >= deadline:
            return
        try:
            data = mon.recv(1 << 20)
        except socket.timeout:
            continue
        except OSError as e:
            if e.errno != errno.ENOBUFS:
                raise
            old_cls = cls(len(present))
            before = {w: (w in present) for w in watched}
            present = addr_dump() & vipset
            t = mono()
            out({"ev": "overrun", "t": t, "n": len(present)})
            for w in watched:
                if (w in present) != before[w]:
                    out({"ev": "up" if w in present else "down", "a": w,
                         "t": t, "resync": True})
            if cls(len(present)) != old_cls:
                out({"ev": "n", "n": len(present), "cls": cls(len(present)),
                     "t": t})
            continue
        t = mono()
        for typ, payload in nl_msgs(data):
            if typ not in (RTM_NEWADDR, RTM_DELADDR):
                continue
            pa = parse_addr(payload)
            if not pa or pa[1] not in vipset:
                continue
            a = pa[1]
            old_cls = cls(len(present))
            if typ == RTM_NEWADDR:
                if a in present:
                    continue                # a lifetime refresh
                present.add(a)
            else:
                if a not in present:
                    continue
                present.discard(a)
            if a in watched:
                out({"ev": "up" if typ == RTM_NEWADDR else "down", "a": a,
                     "t": t})
            c = cls(len(present))
            if c != old_cls:
                out({"ev": "n", "n": len(present), "cls": c, "t": t})


def udpsniff(port, max_s):
    # ETH_P_ALL: a tap for one protocol only sees frames after the
    # bridge's rx handler, which takes every bridged frame first
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                      socket.htons(0x0003))
    s.settimeout(1.0)
    # the kernel's receive time of each frame (CLOCK_REALTIME), moved to
    # CLOCK_MONOTONIC with the offset between the two clocks: not the time
    # this (normal-priority) helper got round to reading it
    s.setsockopt(socket.SOL_SOCKET, 35, 1)              # SO_TIMESTAMPNS
    off = min((time.time() - mono(), ) for _ in range(5))[0]
    hdr = struct.Struct(">IBBHIHHBBHQQQQHI")
    deadline = mono() + max_s
    out({"ready": True})
    for _ in range(10000000):
        if mono() >= deadline:
            return
        try:
            data, anc, _fl, addr = s.recvmsg(2048, socket.CMSG_SPACE(16))
        except socket.timeout:
            continue
        t = mono()
        for lvl, typ, val in anc:
            if lvl == socket.SOL_SOCKET and typ == 35 and len(val) >= 16:
                sec, ns = struct.unpack("@qq", val[:16])
                t = sec + ns / 1e9 - off
        if addr[1] != 0x0800 or addr[2] == socket.PACKET_OUTGOING or \
                len(data) < 28 or data[9] != 17:
            continue
        ihl = (data[0] & 15) * 4
        sp, dp = struct.unpack_from(">HH", data, ihl)
        if port not in (sp, dp):
            continue
        pl = data[ihl + 8:]
        if len(pl) < hdr.size:
            continue
        f = hdr.unpack_from(pl, 0)
        out({"t": t, "src": socket.inet_ntoa(data[12:16]),
             "dst": socket.inet_ntoa(data[16:20]), "if": addr[0],
             "type": f[2], "flags": f[3], "sender": f[5], "target": f[6],
             "state": f[7], "term": f[10]})


def main(argv):
    if len(argv) == 3 and argv[0] == "echo":
        echo(argv[1], float(argv[2]))
    elif len(argv) == 2 and argv[0] == "client":
        client(float(argv[1]))
    elif len(argv) == 2 and argv[0] == "link":
        link(float(argv[1]))
    elif len(argv) == 3 and argv[0] == "udpsniff":
        udpsniff(int(argv[1]), float(argv[2]))
    elif len(argv) == 3 and argv[0] == "addrmon":
        addrmon(argv[1], float(argv[2]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(0)
