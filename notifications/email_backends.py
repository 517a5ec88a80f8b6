"""A Django email backend for development and tests across processes: one file per
message, named by its outbox key and written atomically, so one key is one delivery."""

import os
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from .channels import KEY_HEADER, record_delivery


class KeyedFileEmailBackend(BaseEmailBackend):
    def __init__(self, *args, file_path=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.eml"

    def send_messages(self, email_messages) -> int:
        sent = 0
        for email in email_messages:
            key = email.extra_headers.get(KEY_HEADER) or email.message()["Message-ID"].strip("<>")
            staging = self.directory / f".{key}.{os.getpid()}.tmp"
            staging.write_bytes(email.message().as_bytes())
            record_delivery(self.directory, key, staging, self._path(key))
            sent += 1
        return sent

    def delivered(self, key: str) -> str | None:
        path = self._path(key)
        return f"<{key}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>" if path.exists() else None
