"""The file text backend's hold (SMS_FILE_HOLD_PATH): a send of a listed key waits until the
key is no longer listed; the crash tests kill a worker inside such a send."""

import threading

from notifications.channels import FileSmsBackend


def test_a_listed_key_waits_until_released_and_others_go_at_once(settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.SMS_FILE_DELAY_SECONDS = 0
    hold = tmp_path / "hold"
    hold.write_text("held-key\n")
    settings.SMS_FILE_HOLD_PATH = str(hold)
    backend = FileSmsBackend()

    assert backend.send(key="free-key", to="+13125550101", body="Hi") == "file-free-key"
    held = threading.Thread(
        target=backend.send, kwargs={"key": "held-key", "to": "+13125550102", "body": "Hi"}
    )
    held.start()
    held.join(timeout=0.5)
    assert held.is_alive(), "the listed key's send is still waiting"
    assert backend.delivered("held-key") is None

    hold.unlink()
    held.join(timeout=30)
    assert not held.is_alive()
    assert backend.delivered("held-key") == "file-held-key"
