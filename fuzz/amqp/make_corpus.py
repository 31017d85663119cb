#!/usr/bin/env python3
"""Writes the seed corpus of amqp_fuzzer (fuzz/amqp/corpus/): each fixture capture's two byte
streams (tests/decoders/amqp/fixtures/*.pcap, TCP payloads in capture order), in the fuzzer's
segment format. Pure python (no scapy): parses pcap + Ethernet + IPv4 + TCP headers."""
import glob
import os
import struct
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = os.path.join(root, "fuzz", "amqp", "corpus")
os.makedirs(out, exist_ok=True)


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


def segments(path):
    server_port = None
    for pkt in packets(path):
        if len(pkt) < 14 + 20 or pkt[12:14] != b"\x08\x00":
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:total]
        sport, dport = struct.unpack(">HH", tcp[:4])
        flags = tcp[13]
        if flags & 0x12 == 0x02 and server_port is None:  # SYN: dport is the broker
            server_port = dport
        payload = tcp[(tcp[12] >> 4) * 4:]
        if payload:
            yield (1 if sport == server_port else 0), payload


for pcap in sorted(glob.glob(os.path.join(root, "tests/decoders/amqp/fixtures/*.pcap"))):
    name = os.path.splitext(os.path.basename(pcap))[0]
    body = b""
    for direction, payload in segments(pcap):
        for i in range(0, len(payload), 65535):
            piece = payload[i:i + 65535]
            body += bytes([direction]) + struct.pack(">H", len(piece)) + piece
    # client role in big chunks, byte by byte, server role; the big capture once only
    variants = (0x01 | (0x3f << 2), 0x01 | (0 << 2), 0x02 | (3 << 2))
    for opts in variants[:1] if len(body) > 20000 else variants:
        with open(os.path.join(out, "%s_%02x" % (name, opts)), "wb") as f:
            f.write(bytes([opts]) + body)
print("corpus:", len(os.listdir(out)), "files", file=sys.stderr)
