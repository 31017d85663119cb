"""Issues exactly 1,000 HTTP requests of every shape to server.py and writes a manifest.

Each manifest line: id method path status request_body_bytes response_body_bytes
Shapes: keep-alive GETs with Content-Length bodies 0..256 KiB, close-delimited responses, POSTs
on new connections with request bodies 0..256 KiB, chunked request bodies, chunked responses of
every size, HEAD, 204/304/404/500, pipelined batches on one raw socket, and Expect: 100-continue.
Usage: client.py PORT MANIFEST   (waits for a line on stdin before sending, so it can be traced)
"""
import http.client
import socket
import sys

PORT = int(sys.argv[1])
SIZES = [0, 1, 100, 1000, 4095, 4096, 16383, 16384, 16385, 65536, 100000, 262144]
manifest = []
next_id = 0


def new_id():
    global next_id
    next_id += 1
    return next_id


def record(i, method, path, status, req_bytes, resp_bytes):
    manifest.append(f"{i} {method} {path} {status} {req_bytes} {resp_bytes}")


def body(n):
    return (b"abcdefghijklmnop" * (n // 16 + 1))[:n]


def request(conn, method, path, query="", payload=None, chunked=False):
    i = new_id()
    full = f"{path}/{i}{query}"
    if chunked:
        def gen(data=payload):
            for k in range(0, len(data), 3000):
                yield data[k:k + 3000]
        conn.request(method, full, body=gen(), encode_chunked=True)
    else:
        conn.request(method, full, body=payload)
    resp = conn.getresponse()
    data = resp.read()
    record(i, method, f"{path}/{i}", resp.status, len(payload or b""), len(data))
    return resp


def read_response(sock_file, method):
    status_line = sock_file.readline()
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = sock_file.readline()
        if line in (b"\r\n", b""):
            break
        k, v = line.decode().split(":", 1)
        headers[k.strip().lower()] = v.strip()
    n = 0
    if method != "HEAD" and status not in (204, 304) and status >= 200:
        n = int(headers.get("content-length", "0"))
        sock_file.read(n)
    return status, n


def main():
    sys.stdin.readline()
    host = "127.0.0.1"
    # 380 keep-alive GETs over 4 connections, response sizes cycling.
    conns = [http.client.HTTPConnection(host, PORT) for _ in range(4)]
    for k in range(380):
        size = SIZES[k % len(SIZES)]
        request(conns[k % 4], "GET", "/get", f"?size={size}")
    for c in conns:
        c.close()
    # 20 responses delimited by connection close.
    for k in range(20):
        c = http.client.HTTPConnection(host, PORT)
        request(c, "GET", "/close", f"?size={SIZES[k % len(SIZES)]}")
        c.close()
    # 200 POSTs, each on a new connection, request bodies cycling.
    for k in range(200):
        c = http.client.HTTPConnection(host, PORT)
        request(c, "POST", "/echo", "?size=10", payload=body(SIZES[k % len(SIZES)]))
        c.close()
    # 50 chunked request bodies.
    c = http.client.HTTPConnection(host, PORT)
    for k in range(50):
        request(c, "PUT", "/echo", "?size=3", payload=body(SIZES[k % len(SIZES)]), chunked=True)
    c.close()
    # 150 chunked responses, sizes and chunk sizes cycling.
    c = http.client.HTTPConnection(host, PORT)
    chunks = [1, 7, 100, 4096, 16384, 70000]
    for k in range(150):
        size = SIZES[k % len(SIZES)]
        chunk = chunks[k % len(chunks)]
        request(c, "GET", "/chunked", f"?size={size}&chunk={chunk}")
    # 50 HEAD and 50 status requests on the same keep-alive connection.
    for k in range(50):
        request(c, "HEAD", "/get", f"?size={SIZES[k % len(SIZES)]}")
    codes = [204, 304, 404, 500, 201]
    for k in range(50):
        request(c, "GET", "/status", f"?code={codes[k % len(codes)]}&size=5")
    c.close()
    # 80 pipelined: 20 batches of 4 requests written at once on one raw socket.
    s = socket.create_connection((host, PORT))
    f = s.makefile("rb")
    for batch in range(20):
        ids = [new_id() for _ in range(4)]
        methods = ["GET", "HEAD", "GET", "GET"]
        wire = b""
        for i, m in zip(ids, methods):
            wire += f"{m} /get/{i}?size={SIZES[i % len(SIZES)]} HTTP/1.1\r\nHost: {host}:{PORT}\r\n\r\n".encode()
        s.sendall(wire)
        for i, m in zip(ids, methods):
            status, n = read_response(f, m)
            record(i, m, f"/get/{i}", status, 0, n)
    s.close()
    # 20 requests with Expect: 100-continue: headers, wait for 100, then the body.
    s = socket.create_connection((host, PORT))
    f = s.makefile("rb")
    for k in range(20):
        i = new_id()
        payload = body(SIZES[k % len(SIZES)])
        s.sendall(f"POST /echo/{i}?size=4 HTTP/1.1\r\nHost: {host}:{PORT}\r\n"
                  f"Content-Length: {len(payload)}\r\nExpect: 100-continue\r\n\r\n".encode())
        interim = f.readline()
        assert interim.startswith(b"HTTP/1.1 100"), interim
        f.readline()
        s.sendall(payload)
        status, n = read_response(f, "POST")
        record(i, "POST", f"/echo/{i}", status, len(payload), n)
    s.close()
    assert len(manifest) == 1000, len(manifest)
    with open(sys.argv[2], "w") as out:
        out.write("\n".join(manifest) + "\n")
    print("done", flush=True)


if __name__ == "__main__":
    main()
