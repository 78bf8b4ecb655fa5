"""Radicale (PyPI, pinned in requirements.txt) for the integration tests.

Serves Radicale's WSGI application on 127.0.0.1 on a free port (bound here, so no other
process can take the port between choosing and listening), with its collections in a fresh
temporary folder, plain-text htpasswd users (`ada`/`lovelace`, `kai`/`secret`), owner-only
rights and no delay after a failed login. Prints {"url": ...} on its first line and exits
when its stdin closes.
"""

import os
import socketserver
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from peer_announce import announce  # noqa: E402
import tempfile
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from radicale import Application, config


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main():
    folder = tempfile.mkdtemp(prefix="radicale-")
    users = os.path.join(folder, "users")
    with open(users, "w") as f:
        f.write("ada:lovelace\nkai:secret\n")
    configuration = config.load()
    configuration.update(
        {
            "auth": {"type": "htpasswd", "htpasswd_filename": users, "htpasswd_encryption": "plain", "delay": "0"},
            "rights": {"type": "owner_only"},
            "storage": {"filesystem_folder": os.path.join(folder, "collections")},
            "logging": {"level": "warning"},
        },
        "integration tests",
        privileged=True,
    )
    app = Application(configuration)
    server = make_server("127.0.0.1", 0, app, server_class=ThreadingServer, handler_class=QuietHandler)
    port = server.server_address[1]

    announce(f"http://127.0.0.1:{port}")
    server.serve_forever()


if __name__ == "__main__":
    main()
