from __future__ import annotations

import pytest

from lab.errors import RemoteEndpointRefusedError
from lab.safety import check_endpoint, is_loopback_host


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "bucket.localhost",
                                  "localhost.localstack.cloud"])
def test_loopback(host):
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["10.0.0.1", "192.168.1.4", "s3.amazonaws.com", "8.8.8.8", "example.com", ""])
def test_not_loopback(host):
    assert not is_loopback_host(host)


def test_check_endpoint_refuses_remote_unless_allowed():
    assert check_endpoint("http://127.0.0.1:4566") == "http://127.0.0.1:4566"
    with pytest.raises(RemoteEndpointRefusedError, match="--allow-remote"):
        check_endpoint("https://s3.us-east-1.amazonaws.com")
    assert check_endpoint("http://10.1.2.3:4566", allow_remote=True)


def test_lab_clients_never_read_user_files_or_keys(tmp_path, monkeypatch):
    from lab.awsclient import client

    made = client("s3", "us-west-2", "http://127.0.0.1:1")
    credentials = made._request_signer._credentials
    assert credentials.access_key == "test" and credentials.secret_key == "test"
    assert made.meta.endpoint_url == "http://127.0.0.1:1"
    assert made.meta.region_name == "us-west-2"


def test_network_guard_refuses_remote_in_process():
    import subprocess
    import sys

    code = (
        "from lab.safety import install_network_guard; import socket\n"
        "install_network_guard()\n"
        "s = socket.socket()\n"
        "try:\n"
        "    s.connect(('192.0.2.1', 443))\n"
        "except ConnectionRefusedError as e:\n"
        "    print('refused', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False)
    assert "refused" in out.stdout and "192.0.2.1" in out.stdout
