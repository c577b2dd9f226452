#!/usr/bin/env python3
"""A real SMTP server on loopback for sealdrop's tests (aiosmtpd; `pip install aiosmtpd`).

    python3 smtp_server.py --port 0 --maildir DIR [--tls-cert C --tls-key K] [--implicit-tls]
                           [--require-starttls] [--auth USER:PASS]

Each accepted message is saved as DIR/NNN.eml (the raw bytes received, dot-stuffing removed) and
DIR/NNN.json: envelope sender and recipients, whether the session was encrypted, the login used,
and the Subject and body as Python's email package decodes them (an independent check of the
MIME encoding). Recipients whose local part starts with "refused" get a 550, so a test can
exercise a refused RCPT.

With --tls-cert/--tls-key the server offers STARTTLS (or, with --implicit-tls, speaks TLS from
the first byte, as on port 465). With --auth, AUTH PLAIN/LOGIN is offered only over TLS and is
required before MAIL FROM.

Prints "READY <port>" on stdout once it accepts connections, then runs until its stdin closes
(so it dies with the test process that started it) or it is killed.
"""

import argparse
import email
import email.policy
import json
import os
import socket
import ssl
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Maildir:
    """aiosmtpd handler: refuses "refused*" recipients, saves every message it accepts."""

    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@", 1)[0].lower().startswith("refused"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        stem = os.path.join(self.directory, "%03d" % self.count)
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        body = parsed.get_body()
        # Implicit TLS never sets session.ssl; the transport knows either way.
        tls = session.ssl is not None or (
            server.transport is not None
            and server.transport.get_extra_info("ssl_object") is not None
        )
        login = getattr(session.auth_data, "login", None)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "tls": tls,
            "auth_login": login.decode() if isinstance(login, bytes) else login,
            "subject": str(parsed["subject"]) if parsed["subject"] is not None else None,
            "body": body.get_content().replace("\r\n", "\n") if body is not None else None,
        }
        # Write-then-rename, so a reader never sees half a file.
        write_atomically(stem + ".eml", raw)
        write_atomically(stem + ".json", json.dumps(meta, indent=1).encode())
        return "250 2.0.0 Ok: queued as %03d" % self.count


def write_atomically(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def free_port(host):
    # aiosmtpd's Controller checks readiness by connecting to its configured port, so it cannot
    # be given port 0: ask the kernel for a free port first (the tiny race is harmless in tests).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def main():
    # aiosmtpd itself still sets the deprecated Session.login_data on every login; its warning
    # would only clutter the test output.
    warnings.filterwarnings("ignore", message="Session.login_data is deprecated")
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--maildir", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--auth", metavar="USER:PASS")
    args = p.parse_args()

    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if (args.implicit_tls or args.require_starttls) and not args.tls_cert:
        p.error("--implicit-tls and --require-starttls need --tls-cert and --tls-key")
    os.makedirs(args.maildir, exist_ok=True)

    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)

    smtp_kwargs = {}
    if args.auth:
        user, _, password = args.auth.partition(":")

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == user
                and auth_data.password.decode() == password
            )
            if ok:
                return AuthResult(success=True, auth_data=auth_data)
            # handled=False: aiosmtpd then answers 535 itself (the default, handled=True,
            # would leave the client waiting for a reply).
            return AuthResult(success=False, handled=False)

        smtp_kwargs.update(
            authenticator=authenticator, auth_required=True, auth_require_tls=True
        )
    if context is not None and not args.implicit_tls:
        smtp_kwargs.update(tls_context=context, require_starttls=args.require_starttls)

    controller = Controller(
        Maildir(args.maildir),
        hostname=args.host,
        port=args.port or free_port(args.host),
        ssl_context=context if args.implicit_tls else None,
        # A fixed name: the default looks up this machine's FQDN, which can stall on DNS.
        server_hostname="localhost",
        **smtp_kwargs,
    )
    controller.start()
    try:
        print("READY %d" % controller.port, flush=True)
        for _ in sys.stdin:
            pass
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
