"""WsgiDAV (PyPI `wsgidav`, pinned in requirements.txt, served by cheroot) for the storage tests.

    python server.py ROOT USER PASSWORD

Shares the folder ROOT at `/` over WebDAV with Basic authentication for one user, binds
127.0.0.1 on a free port, prints {"url": ...} on its first line, and exits when its stdin
closes. Locks are kept in memory. Its ETag is inode-mtime-size: two same-size writes within one
second keep the same ETag (see PEERS.md).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from peer_announce import announce  # noqa: E402

from cheroot import wsgi
from wsgidav.wsgidav_app import WsgiDAVApp


def main():
    root, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(root, exist_ok=True)
    config = {
        "host": "127.0.0.1",
        "port": 0,
        "provider_mapping": {"/": root},
        "simple_dc": {"user_mapping": {"*": {user: {"password": password}}}},
        "http_authenticator": {
            "domain_controller": None,
            "accept_basic": True,
            "accept_digest": False,
            "default_to_digest": False,
        },
        "lock_storage": True,
        "verbose": 0,
        "logging": {"enable_loggers": []},
    }
    app = WsgiDAVApp(config)
    server = wsgi.Server(("127.0.0.1", 0), app)
    server.prepare()
    port = server.bind_addr[1]

    announce(f"http://127.0.0.1:{port}")
    server.serve()


if __name__ == "__main__":
    main()
