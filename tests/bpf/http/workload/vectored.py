"""Vectored I/O on both ends: the client sends each request with sendmsg() of several buffers,
the server answers with os.writev() of status line, headers and body as separate buffers.
Usage: vectored.py PORT   (runs the server in a thread; waits for a line on stdin first)
"""
import os
import socket
import sys
import threading

PORT = int(sys.argv[1])
BODY = b"v" * 50000


def serve(listener):
    conn, _ = listener.accept()
    f = conn.makefile("rb")
    for _ in range(3):
        while f.readline() not in (b"\r\n", b""):
            pass
        os.writev(conn.fileno(), [b"HTTP/1.1 200 OK\r\n", b"Content-Type: text/plain\r\n",
                                  b"Content-Length: %d\r\n" % len(BODY), b"\r\n",
                                  BODY[:20000], BODY[20000:]])
    conn.close()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", PORT))
listener.listen()
print("ready", flush=True)
sys.stdin.readline()
t = threading.Thread(target=serve, args=(listener,))
t.start()
c = socket.create_connection(("127.0.0.1", PORT))
for i in range(3):
    c.sendmsg([b"GET /vectored/%d HTTP/1.1\r\n" % i, b"Host: 127.0.0.1\r\n",
               b"X-Part: a\r\n", b"\r\n"])
    got = b""
    while not got.endswith(BODY):
        chunk = c.recv(65536)
        if not chunk:
            sys.exit("server closed early")
        got += chunk
c.close()
t.join()
print("done", flush=True)
