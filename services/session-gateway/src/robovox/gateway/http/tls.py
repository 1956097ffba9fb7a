"""HTTPS for the API and console: a certificate you provide, or a self-signed one made on
first start (``ROBOVOX_TLS_GENERATE``) and kept in the same files, so a phone that trusted
it once keeps trusting it. Either way the certificate's SHA-256 fingerprint is logged, for
people to compare with what their browser shows before they accept it."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from robovox.gateway.settings import GatewaySettings
from robovox.shared.startup import StartupError

log = logging.getLogger(__name__)

VALID_DAYS = 825
"""The longest lifetime Apple's platforms accept for a TLS server certificate."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert: Path
    key: Path


def certificate_names(settings: GatewaySettings) -> tuple[list[str], list[str]]:
    """DNS names and IP addresses the generated certificate is for."""
    names = sorted({"localhost", socket.gethostname(), socket.getfqdn()} - {""})
    addresses = ["127.0.0.1", "::1", *settings.ice_host_addresses]
    if settings.api_host not in ("", "0.0.0.0", "::"):
        addresses.append(settings.api_host)
    return names, sorted(set(addresses))


def generate(files: TlsFiles, dns_names: list[str], ip_addresses: list[str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0] if dns_names else "robovox")])
    now = datetime.datetime.now(datetime.UTC)
    alt: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    alt += [x509.IPAddress(ipaddress.ip_address(address)) for address in ip_addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    files.cert.parent.mkdir(parents=True, exist_ok=True)
    files.key.parent.mkdir(parents=True, exist_ok=True)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key_pem)
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def fingerprint(cert_file: Path) -> str:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def prepare_tls(settings: GatewaySettings) -> TlsFiles | None:
    """The certificate and key to serve, made first if asked and missing; none for plain HTTP.
    A missing or unreadable pair is a ``StartupError`` naming the files."""
    if not settings.tls_enabled:
        return None
    files = TlsFiles(Path(settings.tls_cert_file), Path(settings.tls_key_file))
    if settings.tls_generate and not files.cert.exists() and not files.key.exists():
        names, addresses = certificate_names(settings)
        try:
            generate(files, names, addresses)
        except OSError as exc:
            raise StartupError(
                f"ROBOVOX_TLS_GENERATE: cannot write {files.cert} / {files.key}: {exc.strerror} "
                "(the folder must be writable by the gateway's user)"
            ) from None
        log.info("made a self-signed certificate for %s", ", ".join(names + addresses))
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(files.cert, files.key)
        shown = fingerprint(files.cert)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise StartupError(
            f"ROBOVOX_TLS_CERT_FILE={files.cert}, ROBOVOX_TLS_KEY_FILE={files.key}: cannot be served: {exc} "
            "(PEM files, readable by the gateway; or ROBOVOX_TLS_GENERATE=true to make a pair where none is)"
        ) from None
    log.info("HTTPS certificate %s, SHA-256 fingerprint %s", files.cert, shown)
    return files
