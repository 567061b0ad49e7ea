"""Test certificates made at run time with ``cryptography``: a CA and server certificates it signs.

Nothing here is committed or cached; every call makes fresh keys (EC P-256, fast to generate)::

    ca = make_ca()
    leaf = issue_cert(ca, ["localhost", "127.0.0.1", "::1"])
    files = write_tls_files(tmp_dir, ca, leaf)   # TLSFiles(ca_file, cert_file, key_file)
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..clock import SECOND, RealClock

__all__ = ["CertKey", "TLSFiles", "issue_cert", "make_ca", "make_tls_files", "write_pem", "write_tls_files"]


@dataclass(frozen=True)
class CertKey:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


@dataclass(frozen=True)
class TLSFiles:
    """PEM files on disk: the CA clients should trust, and the server's certificate and key."""

    ca_file: str
    cert_file: str
    key_file: str


def _now() -> _dt.datetime:
    return _dt.datetime.fromtimestamp(RealClock().now_ns() // SECOND, tz=_dt.timezone.utc)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str = "hookmock test CA", *, days: int = 7) -> CertKey:
    """A fresh self-signed CA (valid from one hour ago for ``days`` days)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(hours=1))
        .not_valid_after(now + _dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertKey(cert, key)


def issue_cert(
    ca: CertKey, hosts: Iterable[str] = ("localhost", "127.0.0.1", "::1"), *, days: int = 7
) -> CertKey:
    """A server certificate signed by ``ca`` for ``hosts`` (DNS names and IP addresses)."""
    hosts = list(hosts)
    if not hosts:
        raise ValueError("issue_cert needs at least one host name or IP address")
    sans: list[x509.GeneralName] = []
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(hours=1))
        .not_valid_after(now + _dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return CertKey(cert, key)


def write_pem(path: str | os.PathLike[str], data: CertKey | x509.Certificate, *, key: bool = False) -> str:
    """Write a certificate (or, with ``key=True``, the private key of a :class:`CertKey`) as PEM."""
    if key:
        if not isinstance(data, CertKey):
            raise TypeError("write_pem(key=True) needs a CertKey")
        blob = data.key_pem()
    else:
        cert = data.cert if isinstance(data, CertKey) else data
        blob = cert.public_bytes(serialization.Encoding.PEM)
    target = Path(path)
    target.write_bytes(blob)
    if key:
        target.chmod(0o600)
    return str(target)


def write_tls_files(directory: str | os.PathLike[str], ca: CertKey, leaf: CertKey) -> TLSFiles:
    """Write ``ca.pem``, ``server.pem`` and ``server.key`` into ``directory``."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    return TLSFiles(
        ca_file=write_pem(folder / "ca.pem", ca),
        cert_file=write_pem(folder / "server.pem", leaf),
        key_file=write_pem(folder / "server.key", leaf, key=True),
    )


def make_tls_files(
    directory: str | os.PathLike[str], hosts: Iterable[str] = ("localhost", "127.0.0.1", "::1")
) -> TLSFiles:
    """A fresh CA and a server certificate for ``hosts``, written as PEM files into ``directory``."""
    ca = make_ca()
    return write_tls_files(directory, ca, issue_cert(ca, hosts))
