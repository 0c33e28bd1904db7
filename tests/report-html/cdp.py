#!/usr/bin/env python3
"""cdp.py - load a page in a running Chromium over the DevTools protocol and
check it: no console error, no exception, no request other than the page's
own URL. Saves a full-page screenshot (PNG).

usage: cdp.py PORT URL SCREENSHOT

Standard library only: a minimal websocket client (RFC 6455, text frames,
client-side masking). Prints what it found; exit 0 when the page is clean,
1 when it is not, 2 when the browser cannot be driven.
"""

import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.request

TIMEOUT = 20.0


class WS:
    def __init__(self, url):
        assert url.startswith("ws://")
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.split(":")
        self.s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key))
        self.s.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(4096)
            if not chunk:
                raise IOError("websocket handshake: connection closed")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise IOError("websocket handshake refused: %r" % head[:200])

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            hdr = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.s.sendall(hdr + mask + body)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise IOError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        msg = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            if b1 & 0x80:
                mask = self._read(4)
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read(n)))
            else:
                data = self._read(n)
            op = b0 & 0x0F
            if op == 0x8:
                raise IOError("websocket closed by the browser")
            if op in (0x9, 0xA):
                continue
            msg += data
            if b0 & 0x80:
                return msg.decode("utf-8", "replace")


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.n = 0
        self.events = []

    def call(self, method, **params):
        self.n += 1
        mid = self.n
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        deadline = time.time() + TIMEOUT
        self.ws.s.settimeout(TIMEOUT)
        while time.time() < deadline:
            m = json.loads(self.ws.recv())
            if m.get("id") == mid:
                if "error" in m:
                    raise IOError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)
        raise IOError("%s: no answer" % method)

    def wait_event(self, name, seconds):
        deadline = time.time() + seconds
        for e in self.events:
            if e.get("method") == name:
                return True
        self.ws.s.settimeout(0.5)
        while time.time() < deadline:
            try:
                m = json.loads(self.ws.recv())
            except socket.timeout:
                continue
            self.events.append(m)
            if m.get("method") == name:
                self.ws.s.settimeout(TIMEOUT)
                return True
        self.ws.s.settimeout(TIMEOUT)
        return False

    def drain(self, seconds):
        self.wait_event("-none-", seconds)


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    port, url, shot = sys.argv[1], sys.argv[2], sys.argv[3]
    try:
        req = urllib.request.Request(
            "http://127.0.0.1:%s/json/new?about:blank" % port, method="PUT")
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            target = json.load(r)
        page = Page(WS(target["webSocketDebuggerUrl"]))
        for domain in ("Network", "Runtime", "Log", "Page"):
            page.call(domain + ".enable")
        page.call("Page.navigate", url=url)
        if not page.wait_event("Page.loadEventFired", TIMEOUT):
            print("the page did not finish loading")
            return 1
        page.drain(1.0)
        title = page.call("Runtime.evaluate", expression="document.title",
                          returnByValue=True)["result"].get("value")
        svgs = page.call("Runtime.evaluate",
                         expression="document.querySelectorAll('svg').length",
                         returnByValue=True)["result"].get("value")
        metrics = page.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        png = page.call("Page.captureScreenshot", format="png",
                        captureBeyondViewport=True,
                        clip={"x": 0, "y": 0, "width": size["width"],
                              "height": min(size["height"], 6000), "scale": 1})
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png["data"]))
    except (IOError, OSError, KeyError, ValueError) as e:
        print("cannot drive the browser: %s" % e)
        return 2

    problems = []
    for e in page.events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Network.requestWillBeSent":
            u = p.get("request", {}).get("url", "")
            if u != url and not u.startswith("data:"):
                problems.append("external request: %s" % u)
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", "")))
                            for a in p.get("args", []))
            problems.append("console error: %s" % args)
        elif m == "Runtime.exceptionThrown":
            problems.append("console error (exception): %s"
                            % p.get("exceptionDetails", {}).get("text", ""))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            problems.append("console error (log): %s" % p["entry"].get("text", ""))
    print("page: %s, title %r, %s inline SVG charts, screenshot %s"
          % (url.rsplit("/", 1)[-1], title, svgs, shot))
    for pr in problems:
        print(pr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
