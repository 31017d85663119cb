"""Traffic scenarios for the BPF capture tests (run by Debian's /usr/bin/python3).

Protocol with the test: print "ready <json>" once set up, wait for "go" on stdin, run the
scenario, print "done <json>", then wait for stdin to close before exiting (so every socket is
closed with close(2) while the test still traces this process).
"""
import json
import os
import socket
import sys
import tempfile
import threading


def pattern(n, prefix=b"POST /upload HTTP/1.1\r\nContent-Type: x\r\n\r\n"):
    body = bytes(((i * 131 + 7) & 0xFF) for i in range(n - len(prefix)))
    return prefix + body


def recv_exact(fn, n):
    out = b""
    while len(out) < n:
        chunk = fn(n - len(out))
        if not chunk:
            raise EOFError("peer closed")
        out += chunk
    return out


def pair(family=socket.AF_INET):
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.bind((host, 0))
    srv.listen(16)
    cli = socket.socket(family, socket.SOCK_STREAM)
    cli.connect(srv.getsockname()[:2])
    conn, _ = srv.accept()
    return srv, cli, conn


def info(srv, cli, conn):
    return {"server_port": srv.getsockname()[1], "client_port": cli.getsockname()[1],
            "client_fd": cli.fileno(), "server_fd": conn.fileno()}


def ready(payload=None):
    print("ready " + json.dumps(payload or {}), flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)


def done(payload):
    print("done " + json.dumps(payload), flush=True)
    sys.stdin.read()


def scenario_conn(family):
    ready()
    srv, cli, conn = pair(family)
    res = info(srv, cli, conn)
    cli.send(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
    recv_exact(conn.recv, 32)
    conn.send(b"HTTP/1.1 204 No Content\r\n\r\n")
    recv_exact(cli.recv, 27)
    cli.close()
    conn.close()
    srv.close()
    return res


def scenario_syscalls():
    ready()
    srv, cli, conn = pair()
    res = info(srv, cli, conn)
    c2s = [b"GET /one HTTP/1.1\r\n", b"X-Two: send\r\n", [b"X-Three: ", b"send", b"msg\r\n"],
           [b"X-Four: ", b"write", b"v\r\n\r\n"]]
    s2c = [b"HTTP/1.1 200 OK\r\n", b"X-Six: send\r\n", [b"X-Seven: ", b"send", b"msg\r\n"],
           [b"X-Eight: ", b"write", b"v\r\n\r\n"]]

    def exchange(tx, rx, msgs):
        tfd, rfd = tx.fileno(), rx.fileno()
        one, two, three, four = msgs
        os.write(tfd, one)
        recv_exact(lambda n: os.read(rfd, n), len(one))
        tx.send(two)
        recv_exact(rx.recv, len(two))
        tx.sendmsg(three)
        recv_exact(lambda n: rx.recvmsg(n)[0], len(b"".join(three)))
        os.writev(tfd, four)
        want = len(b"".join(four))
        got = 0
        while got < want:
            left = want - got
            a, b = bytearray(min(5, left)), bytearray(max(left - 5, 0))
            got += os.readv(rfd, [a, b])

    exchange(cli, conn, c2s)
    exchange(conn, cli, s2c)
    flat = lambda m: b"".join(x if isinstance(x, bytes) else b"".join(x) for x in m)
    res["c2s"] = flat(c2s).decode()
    res["s2c"] = flat(s2c).decode()
    cli.close()
    conn.close()
    srv.close()
    return res


def scenario_bulk(size, use_write):
    ready()
    srv, cli, conn = pair()
    res = info(srv, cli, conn)
    data = pattern(size)
    got = []

    def reader():
        n = 0
        while n < size:
            chunk = conn.recv(1 << 20)
            if not chunk:
                break
            n += len(chunk)
            got.append(chunk)

    t = threading.Thread(target=reader)
    t.start()
    if use_write:
        off = 0
        while off < size:
            off += os.write(cli.fileno(), data[off:])
    else:
        cli.sendall(data)
    t.join()
    res["received_ok"] = b"".join(got) == data
    cli.close()
    conn.close()
    srv.close()
    return res


def scenario_sendfile():
    ready()
    srv, cli, conn = pair()
    res = info(srv, cli, conn)
    body = b"HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n" + b"z" * 4000
    with tempfile.TemporaryFile() as f:
        f.write(body)
        f.flush()
        cli.send(b"GET /file HTTP/1.1\r\n\r\n")
        recv_exact(conn.recv, 22)
        off = 0
        while off < len(body):
            off += os.sendfile(conn.fileno(), f.fileno(), off, len(body) - off)
    recv_exact(cli.recv, len(body))
    res["file_len"] = len(body)
    cli.close()
    conn.close()
    srv.close()
    return res


def scenario_fdreuse():
    ready()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    fds = []
    for i in range(2):
        cli = socket.create_connection(srv.getsockname())
        conn, _ = srv.accept()
        fds.append({"client_fd": cli.fileno(), "server_fd": conn.fileno(),
                    "client_port": cli.getsockname()[1]})
        cli.send(b"GET /%d HTTP/1.1\r\n\r\n" % i)
        recv_exact(conn.recv, 19)
        cli.close()
        conn.close()
    srv.close()
    return {"conns": fds}


def scenario_only_tcp():
    ready()
    u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u1.bind(("127.0.0.1", 0))
    u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u2.connect(u1.getsockname())
    u2.send(b"GET /udp HTTP/1.1\r\n\r\n")
    u1.recvfrom(100)
    os.write(u2.fileno(), b"GET /udp-write HTTP/1.1\r\n\r\n")
    os.read(u1.fileno(), 100)
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a.send(b"GET /unix HTTP/1.1\r\n\r\n")
    b.recv(100)
    os.write(b.fileno(), b"HTTP/1.1 200 OK\r\n\r\n")
    os.read(a.fileno(), 100)
    r, w = os.pipe()
    os.write(w, b"GET /pipe HTTP/1.1\r\n\r\n")
    os.read(r, 100)
    for s in (u1, u2, a, b):
        s.close()
    os.close(r)
    os.close(w)
    srv, cli, conn = pair()
    res = info(srv, cli, conn)
    cli.send(b"GET /tcp HTTP/1.1\r\n\r\n")
    recv_exact(conn.recv, 21)
    cli.close()
    conn.close()
    srv.close()
    return res


def scenario_prefilter():
    ready()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    kinds = {
        "binary": ([b"\xde\xad\xbe\xef\x00\x01\x02\x03\xff\xfe\x80\x81"] * 4, b"\x00"),
        "http": ([b"GET /r HTTP/1.1\r\nHost: a\r\n\r\n"] * 4,
                 b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        "redis": ([b"*1\r\n$4\r\nPING\r\n"] * 4, b"+PONG\r\n"),
        "postgres": ([b"\x00\x00\x00\x11\x00\x03\x00\x00user\x00pg\x00\x00"] +
                     [b"Q\x00\x00\x00\x0dselect 1\x00"] * 3, b"Z\x00\x00\x00\x05I"),
        "amqp": ([b"AMQP\x00\x00\x09\x01"] +
                 [b"\x01\x00\x01\x00\x00\x00\x04\x00\x0a\x00\x28\xce"] * 3,
                 b"\x01\x00\x00\x00\x00\x00\x04\x00\x0a\x00\x0a\xce"),
    }
    ports = {}
    for name, (msgs, reply) in kinds.items():
        cli = socket.create_connection(srv.getsockname())
        conn, _ = srv.accept()
        ports[name] = cli.getsockname()[1]
        for m in msgs:
            cli.send(m)
            recv_exact(conn.recv, len(m))
            conn.send(reply)
            recv_exact(cli.recv, len(reply))
        cli.close()
        conn.close()
    srv.close()
    return {"ports": ports}


def scenario_midstream():
    srv, cli, conn = pair()
    res = info(srv, cli, conn)
    ready(res)
    cli.send(b"GET /late HTTP/1.1\r\n\r\n")
    recv_exact(conn.recv, 22)
    conn.send(b"HTTP/1.1 200 OK\r\n\r\n")
    recv_exact(cli.recv, 19)
    cli.close()
    conn.close()
    srv.close()
    return res


def scenario_ports():
    srv_a = socket.socket()
    srv_a.bind(("127.0.0.1", 0))
    srv_a.listen(4)
    srv_b = socket.socket()
    srv_b.bind(("127.0.0.1", 0))
    srv_b.listen(4)
    res = {"port_a": srv_a.getsockname()[1], "port_b": srv_b.getsockname()[1]}
    ready(res)
    for srv in (srv_a, srv_b):
        cli = socket.create_connection(srv.getsockname())
        conn, _ = srv.accept()
        cli.send(b"GET /p HTTP/1.1\r\n\r\n")
        recv_exact(conn.recv, 19)
        cli.close()
        conn.close()
        srv.close()
    return res


SCENARIOS = {
    "conn4": lambda: scenario_conn(socket.AF_INET),
    "conn6": lambda: scenario_conn(socket.AF_INET6),
    "syscalls": scenario_syscalls,
    "large": lambda: scenario_bulk(200 * 1024, use_write=False),
    "truncate": lambda: scenario_bulk(600 * 1024, use_write=True),
    "sendfile": scenario_sendfile,
    "fdreuse": scenario_fdreuse,
    "only_tcp": scenario_only_tcp,
    "prefilter": scenario_prefilter,
    "midstream": scenario_midstream,
    "ports": scenario_ports,
}

if __name__ == "__main__":
    done(SCENARIOS[sys.argv[1]]())
