"""A real SMTP server for Rampart's mail tests: Debian's aiosmtpd with STARTTLS
required, AUTH (PLAIN/LOGIN) required after TLS, and every accepted message written to
a directory as <n>.eml plus <n>.json (envelope, authenticated user, whether TLS was on).

Usage: /usr/bin/python3 smtp_server.py --cert C --key K --dir D --user U --password P
Prints "PORT <n>" on stdout once it accepts connections; runs until killed or stdin closes.
"""
import argparse
import email
import email.policy
import json
import os
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Store:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, str(self.count))
        raw = envelope.original_content or envelope.content
        with open(base + ".eml.tmp", "wb") as f:
            f.write(raw)
        # Python's own MIME parser reads the message back: the oracle for what a mail
        # client would show.
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        attachments = []
        for i, part in enumerate(msg.iter_attachments()):
            path = f"{base}.att{i}"
            with open(path, "wb") as f:
                f.write(part.get_payload(decode=True))
            attachments.append({
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "path": path,
            })
        meta = {
            "subject": msg["subject"],
            "from": msg["from"],
            "to": msg["to"],
            "text": body.get_content() if body is not None else None,
            "attachments": attachments,
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "auth_user": session.auth_data.login.decode()
            if isinstance(session.auth_data, LoginPassword)
            else None,
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 Message accepted"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    a = p.parse_args()

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == a.user
            and auth_data.password.decode() == a.password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    port = free_port()
    controller = Controller(
        Store(a.dir),
        hostname="127.0.0.1",
        port=port,
        tls_context=ctx,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticator,
    )
    controller.start()
    print(f"PORT {port}", flush=True)
    # Stop when the test closes our stdin (or kills us).
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
