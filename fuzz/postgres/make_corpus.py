"""Writes fuzz seeds from the PostgreSQL fixtures: one file per TCP connection and role, in the
fuzzer's input layout ([options][seed][split lo][split hi] client bytes, server bytes), plus a few
hand-made seeds for paths the fixtures do not cover (SSL, cancel, garbage).
Usage: /usr/bin/python3 fuzz/postgres/make_corpus.py  (from the repository root)"""
import glob
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "..", "tests", "decoders", "postgres", "fixtures")
out = os.path.join(here, "corpus")
os.makedirs(out, exist_ok=True)
MAX_STREAM = 16 << 10  # keep seeds small: libFuzzer mutates better


def packets(path):
    data = open(path, "rb").read()
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


def connections(pcap):
    conns = {}
    seen = set()
    for pkt in packets(pcap):
        if len(pkt) < 54 or pkt[12:14] != b"\x08\x00" or pkt[23] != 6:
            continue
        ihl = (pkt[14] & 0xF) * 4
        tcp = pkt[14 + ihl:]
        sport, dport = struct.unpack(">HH", tcp[:4])
        seq = struct.unpack(">I", tcp[4:8])[0]
        flags = tcp[13]
        payload = tcp[(tcp[12] >> 4) * 4:]
        if flags & 0x02 and not flags & 0x10:
            conns[(sport, dport)] = [b"", b""]
            continue
        if not payload or (sport, dport, seq) in seen:
            continue  # retransmission
        seen.add((sport, dport, seq))
        if (sport, dport) in conns:
            conns[(sport, dport)][0] += payload
        elif (dport, sport) in conns:
            conns[(dport, sport)][1] += payload
        else:  # capture started mid-connection: the server port is the PostgreSQL one
            conns.setdefault((sport, dport), [b"", b""])[0] += payload
    return list(conns.values())


def write(name, client, server, role, options=0, seed=7):
    client, server = client[:MAX_STREAM], server[:MAX_STREAM]
    data = bytes([role | options, seed]) + struct.pack("<H", len(client)) + client + server
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


for pcap in sorted(glob.glob(os.path.join(fixtures, "*.pcap"))):
    name = os.path.splitext(os.path.basename(pcap))[0]
    for i, (client, server) in enumerate(connections(pcap)):
        write(f"{name}_{i}_client", client, server, 0)
        write(f"{name}_{i}_server", client, server, 1)

be32 = lambda v: struct.pack(">I", v)
msg = lambda tag, body: tag + be32(len(body) + 4) + body
startup = be32(8) + be32(80877103)  # SSLRequest
write("ssl_accepted", startup + b"\x16\x03\x01\x00\x05hello", b"S\x16\x03\x03\x00\x02hi", 0)
write("ssl_refused", startup + be32(9) + be32(196608) + b"\x00" + msg(b"Q", b"SELECT 1\x00"),
      b"N" + msg(b"R", be32(0)) + msg(b"Z", b"I") + msg(b"C", b"SELECT 1\x00") + msg(b"Z", b"I"), 0)
write("cancel", be32(16) + be32(80877102) + be32(1) + be32(2), b"", 0)
write("sql_only", b"SELECT 'a''b', E'\\'', $x$ $ $x$, 1.5e3, \"q\"\"x\" -- c\n/* /* */ */; B'1'", b"", 0, 64)
