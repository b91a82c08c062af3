"""Run localstripe (the fake Stripe server from PyPI) for the tests, bound to loopback only.

localstripe's own ``start()`` listens on every interface (``::``) and pickles its store to the
fixed path ``/tmp/localstripe.pickle`` after each write, which parallel runs on one machine
would share. This launcher uses its aiohttp application unchanged, binds it to 127.0.0.1 on
the given port and keeps the store in memory (two attribute assignments, no source patch).

    python tests/orders/localstripe_server.py PORT
"""

from __future__ import annotations

import logging
import sys

from aiohttp import web
from localstripe import resources, server


def main() -> None:
    port = int(sys.argv[1])
    # In memory only: nothing written to (or read from) the shared /tmp pickle.
    resources.store.dump_to_disk = lambda: None
    resources.store.try_load_from_disk = lambda: None
    logging.basicConfig(level=logging.WARNING)
    web.run_app(server.app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
