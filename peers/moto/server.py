"""moto (PyPI `moto[server]`, pinned in requirements.txt): an S3-compatible server for the storage
tests.

Binds 127.0.0.1 on a free port, prints {"url": ...} on its first line, and exits when its stdin
closes. With INITIAL_NO_AUTH_ACTION_COUNT=N in the environment (moto's own switch), the first N requests are
free — enough to create an IAM user and its access key — and every later one must carry a valid
AWS Signature Version 4 (presigned URLs then fail with 500: test them with authentication off).
Use path-style URLs (`http://127.0.0.1:PORT/bucket/key`) in region us-east-1.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from peer_announce import announce  # noqa: E402
import threading

from moto.server import ThreadedMotoServer


def main():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()

    announce(f"http://{host}:{port}")
    threading.Event().wait()


if __name__ == "__main__":
    main()
