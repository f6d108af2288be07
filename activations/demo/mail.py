"""An SMTP relay on loopback (aiosmtpd) that files every message it accepts in a Maildir.

It asks for AUTH LOGIN/PLAIN with the credentials it was given, as a real relay does, over a
plain connection: the demo's messages never leave the machine, so it offers no TLS.
"""

from __future__ import annotations

import logging
import mailbox
from pathlib import Path
from typing import Any

from activations.standins.base import free_port


class MaildirRelay:
    """Messages land in `folder` (`new/`, one file per message); `count()` reads it back."""

    def __init__(self, folder: Path, username: str, password: str) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Mailbox
        from aiosmtpd.smtp import AuthResult

        self.folder = folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(folder, create=True)

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
            login = (data.login.decode(), data.password.decode())
            # handled=False: aiosmtpd answers 535 itself when the login is refused.
            return AuthResult(success=login == (username, password), handled=False)

        # aiosmtpd logs a deprecation of its own internals at every login; nothing to act on.
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        self.port = free_port()
        self.controller = Controller(
            Mailbox(folder),
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticate,
            auth_require_tls=False,
        )
        self.controller.start()

    def count(self) -> int:
        return len(mailbox.Maildir(self.folder, create=False))

    def close(self) -> None:
        self.controller.stop()
