"""HTTP/1.1 test server for wirespan's integration tests (Debian's /usr/bin/python3, stdlib only).

Paths (N is the request's id, echoed back so spans can be matched to the client's manifest):
  /get/N?size=S          S body bytes, Content-Length
  /chunked/N?size=S&chunk=C   S body bytes in chunks of C (Transfer-Encoding: chunked)
  /close/N?size=S        S body bytes, no length: delimited by closing the connection
  /status/N?code=K       status K (204 and 304 carry no body)
  POST /echo/N?size=S    reads the request body (Content-Length or chunked), answers S bytes
Usage: server.py PORT
"""
import socketserver
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _query(self):
        parts = urlsplit(self.path)
        return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}

    def _body(self, size):
        return (b"0123456789abcdef" * (size // 16 + 1))[:size]

    def _read_request_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            total = 0
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return total
                self.rfile.read(size)
                self.rfile.readline()
                total += size
        length = int(self.headers.get("Content-Length", "0"))
        remaining = length
        while remaining:
            remaining -= len(self.rfile.read(min(remaining, 65536)))
        return length

    def _send(self, code, body, head=False, length=True, extra=()):
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        for k, v in extra:
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def do_GET(self, head=False):
        path, q = self._query()
        size = int(q.get("size", "0"))
        if path.startswith("/get/"):
            self._send(200, self._body(size), head=head)
        elif path.startswith("/chunked/"):
            chunk = max(1, int(q.get("chunk", "1024")))
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            body = self._body(size)
            for i in range(0, len(body), chunk):
                piece = body[i:i + chunk]
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\nX-Trailer: done\r\n\r\n")
        elif path.startswith("/close/"):
            self.close_connection = True
            self._send(200, self._body(size), head=head, length=False,
                       extra=(("Connection", "close"),))
        elif path.startswith("/status/"):
            code = int(q.get("code", "200"))
            if code in (204, 304):
                self.send_response(code)
                self.end_headers()
            else:
                self._send(code, self._body(size), head=head)
        else:
            self._send(404, b"not found", head=head)

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_POST(self):
        path, q = self._query()
        self._read_request_body()
        self._send(200, self._body(int(q.get("size", "0"))))

    do_PUT = do_POST


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()
