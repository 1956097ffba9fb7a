"""HTTPS for the API: a self-signed certificate made once and kept, its fingerprint logged; files
that cannot be served end the start in one line; the health check asks the right URL."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from pydantic import ValidationError

from robovox.gateway.healthcheck import health_url
from robovox.gateway.http.tls import fingerprint, prepare_tls
from robovox.gateway.settings import GatewaySettings
from robovox.shared.startup import StartupError


def settings(tmp_path: Path, **overrides: Any) -> GatewaySettings:
    options: dict[str, Any] = {
        "redis_url": "redis://unused", "openai_api_key": "sk-unit", "api_token": "unit-token",
        "tls_cert_file": str(tmp_path / "tls" / "cert.pem"), "tls_key_file": str(tmp_path / "tls" / "key.pem"),
        **overrides,
    }  # fmt: skip
    return GatewaySettings(**options)


def test_a_generated_certificate_is_kept_and_its_fingerprint_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    wanted = settings(tmp_path, tls_generate=True, ice_host_addresses="192.0.2.7")
    files = prepare_tls(wanted)
    assert files is not None and files.cert.is_file() and (files.key.stat().st_mode & 0o777) == 0o600
    first = fingerprint(files.cert)
    assert len(first.split(":")) == 32 and f"SHA-256 fingerprint {first}" in caplog.text
    names = x509.load_pem_x509_certificate(files.cert.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    addresses = {str(address) for address in names.value.get_values_for_type(x509.IPAddress)}
    assert {"192.0.2.7", "127.0.0.1", "::1"} <= addresses
    assert "localhost" in names.value.get_values_for_type(x509.DNSName)
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(files.cert, files.key)
    again = prepare_tls(wanted)
    assert again == files and fingerprint(files.cert) == first  # made once: a phone that trusted it keeps trusting it


def test_certificate_files_that_cannot_be_served_end_the_start(tmp_path: Path) -> None:
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls" / "cert.pem").write_text("not a certificate")
    (tmp_path / "tls" / "key.pem").write_text("not a key")
    with pytest.raises(StartupError, match=r"ROBOVOX_TLS_CERT_FILE=.*cert.pem.*cannot be served"):
        prepare_tls(settings(tmp_path, tls_generate=True))
    with pytest.raises(StartupError, match="cannot be served"):
        prepare_tls(settings(tmp_path / "none"))  # missing and not to be made


def test_plain_http_without_files_and_both_files_or_neither(tmp_path: Path) -> None:
    assert prepare_tls(settings(tmp_path, tls_cert_file="", tls_key_file="")) is None
    with pytest.raises(ValidationError, match="ROBOVOX_TLS_CERT_FILE and ROBOVOX_TLS_KEY_FILE go together"):
        settings(tmp_path, tls_key_file="")


def test_the_health_check_asks_loopback_over_the_api_scheme(tmp_path: Path) -> None:
    assert health_url(settings(tmp_path, api_host="0.0.0.0", api_port=8443)) == "https://127.0.0.1:8443/health"
    plain = settings(tmp_path, api_host="::", tls_cert_file="", tls_key_file="")
    assert health_url(plain) == "http://[::1]:8700/health"
