"""scim2-server (PyPI, pinned in requirements.txt) for the integration tests: the SCIM client's
target. Runs scim2-server's own command line with `--port 0` on 127.0.0.1 and a bearer token
(the first argument), prints {"url": ...} with the port the OS chose as its only line of
output (everything else goes to stderr), and exits when its stdin closes.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from peer_announce import announce  # noqa: E402

from scim2_server.testserver import cli

_make_server = cli.make_server


def _announcing(host, port, app, **kwargs):
    server = _make_server(host, port, app, **kwargs)
    announce(f"http://{host}:{server.server_port}/v2")
    # Only the announcement goes to stdout: the harness stops reading after it.
    sys.stdout = sys.stderr
    return server


cli.make_server = _announcing
sys.argv = ["scim2-server", "--hostname", "127.0.0.1", "--port", "0", "--bearer-token", sys.argv[1]]
cli.main()
