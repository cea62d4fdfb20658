"""A loopback HTTP proxy that adds dowse's bearer token to every request and
forwards it otherwise untouched (method, path, headers — Host and Origin
included —, body), streaming the answer back. The protocol's conformance
suite does not know the token; with this in front it tests everything else
of the real endpoint. Usage: token_proxy.py TARGET_URL TOKEN (prints its
own URL, then serves until killed)."""
import http.client
import http.server
import socketserver
import sys
import urllib.parse

TARGET = urllib.parse.urlsplit(sys.argv[1])
TOKEN = sys.argv[2]
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(TARGET.hostname, TARGET.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        headers["Authorization"] = f"Bearer {TOKEN}"
        upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            upstream.putheader(k, v)
        upstream.endheaders(body)
        response = upstream.getresponse()
        self.send_response(response.status)
        for k, v in response.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while True:
            chunk = response.read1(65536)
            if not chunk:
                break
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        upstream.close()

    do_GET = do_POST = do_DELETE = forward

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
print(f"http://127.0.0.1:{server.server_address[1]}{TARGET.path}", flush=True)
server.serve_forever()
