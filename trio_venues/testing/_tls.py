"""TLS for tests: a private CA (trustme) and ready ``ssl.SSLContext`` objects.

:func:`make_tls_certs` returns a :class:`TLSCerts` holding a CA, a client
context that trusts it, and server contexts for the good case and the bad
ones a client must report as :class:`~trio_venues.errors.TLSFailed`:

=======================  =====================================================
``server``               leaf for ``localhost`` and ``127.0.0.1``, signed by the CA
``untrusted_server``     the same names, signed by another CA the client lacks
``wrong_host_server``    a leaf for ``wrong.test`` only
``expired_server``       the right names, ``not_after`` in the past
=======================  =====================================================

A "not TLS at all" peer needs no certificate: point a ``wss://`` URL at a
plain fake server. Everything stays on 127.0.0.1; no file is written.
Keys are ECDSA (fast to generate).
"""

from __future__ import annotations

import datetime
import ssl
from typing import Any

import attrs

__all__ = ["TLSCerts", "make_tls_certs"]

#: the names of the good server certificate
LOCAL_NAMES = ("localhost", "127.0.0.1")


def _server_context(cert: Any) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    return ctx


@attrs.frozen
class TLSCerts:
    """A test CA and the contexts built from it (see the module docstring).

    Attributes:
        ca: the ``trustme.CA`` (``ca.cert_pem`` to write a bundle, if needed).
        client: a client context that trusts ``ca`` (hostname checks on).
        server: the good server context.
        untrusted_server: signed by a CA the client does not trust.
        wrong_host_server: a certificate for ``wrong.test``.
        expired_server: a certificate that expired a day ago.
    """

    ca: Any
    client: ssl.SSLContext
    server: ssl.SSLContext
    untrusted_server: ssl.SSLContext
    wrong_host_server: ssl.SSLContext
    expired_server: ssl.SSLContext


def make_tls_certs() -> TLSCerts:
    """Make a CA and every context of :class:`TLSCerts` (about 50 ms of key generation)."""
    import trustme

    ca = trustme.CA()
    other_ca = trustme.CA()
    client = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(client)
    # Certificates carry wall-clock validity; that is the certificate's business,
    # not a deadline of ours, so datetime.now() is right here.
    now = datetime.datetime.now(datetime.UTC)
    expired = ca.issue_cert(
        *LOCAL_NAMES,
        not_before=now - datetime.timedelta(days=30),
        not_after=now - datetime.timedelta(days=1),
    )
    return TLSCerts(
        ca=ca,
        client=client,
        server=_server_context(ca.issue_cert(*LOCAL_NAMES)),
        untrusted_server=_server_context(other_ca.issue_cert(*LOCAL_NAMES)),
        wrong_host_server=_server_context(ca.issue_cert("wrong.test")),
        expired_server=_server_context(expired),
    )
