"""Python 2.7 launcher for Autobahn|Testsuite's `wstest` that binds every TCP
listener to 127.0.0.1 instead of all interfaces.

autobahntestsuite (0.8.x and 25.10.1 alike) is Python 2.7-only code; it calls
reactor.listenTCP(port, factory) with interface='' (all addresses). We keep the
whole run on loopback by patching the reactor before wstest starts.

Usage (inside the Python 2.7 virtualenv):
    python wstest_loopback.py -m fuzzingserver -s fuzzingserver.json -u 0
"""
import sys

import autobahntestsuite  # noqa: F401  (installs the epoll reactor first)
from twisted.internet import reactor

_listen_tcp = reactor.listenTCP


def _loopback_listen_tcp(port, factory, backlog=50, interface=''):
    return _listen_tcp(port, factory, backlog, interface or '127.0.0.1')


reactor.listenTCP = _loopback_listen_tcp

from autobahntestsuite.wstest import run  # noqa: E402

if __name__ == '__main__':
    sys.exit(run())
