"""Writes fuzz seeds from the HTTP test fixtures: one file per TCP connection, in the fuzzer's
input layout ([options][seed][split lo][split hi] client bytes, server bytes).
Usage: /usr/bin/python3 fuzz/http/make_corpus.py  (from the repository root)"""
import glob
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "..", "tests", "decoders", "http", "fixtures")
out = os.path.join(here, "corpus")
os.makedirs(out, exist_ok=True)


def packets(path):
    data = open(path, "rb").read()
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


for pcap in sorted(glob.glob(os.path.join(fixtures, "*.pcap"))):
    conns = {}
    for pkt in packets(pcap):
        if len(pkt) < 54 or pkt[12:14] != b"\x08\x00" or pkt[23] != 6:
            continue
        ihl = (pkt[14] & 0xF) * 4
        tcp = pkt[14 + ihl:]
        sport, dport = struct.unpack(">HH", tcp[:4])
        flags = tcp[13]
        payload = tcp[(tcp[12] >> 4) * 4:]
        if flags & 0x02 and not flags & 0x10:
            conns[(sport, dport)] = [b"", b""]
            continue
        if (sport, dport) in conns:
            conns[(sport, dport)][0] += payload
        elif (dport, sport) in conns:
            conns[(dport, sport)][1] += payload
    name = os.path.splitext(os.path.basename(pcap))[0]
    for i, (client, server) in enumerate(conns.values()):
        for role in (0, 1):
            seed = bytes([role, 7]) + struct.pack("<H", min(len(client), 65535)) + client + server
            with open(os.path.join(out, f"{name}_{i}_{'server' if role else 'client'}"), "wb") as f:
                f.write(seed)
