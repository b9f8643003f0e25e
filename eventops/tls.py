"""A local certificate authority and the server certificate it signs, for HTTPS on a laptop or one host.

Tablets need an HTTPS page to use their camera. Nobody's public CA signs a certificate for a laptop's Wi-Fi
address, so the launchers (`make run` in venue mode, `make run-prod`) make their own CA once, kept under
var/tls/ (the key 0600), and a server certificate for the addresses the server is reached at, made again
whenever those addresses change. A tablet trusts the CA once (README, "Venue mode") and from then on every
server certificate it signs, whichever address the laptop gets at the next venue.

The certificates follow what iOS and Android accept from a user-installed CA: a CA with basic constraints
and key usage marked critical; a server certificate with the names in subjectAltName (IP addresses as IP
entries), serverAuth in extended key usage and a validity under 398 days.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from eventops.files import private_directory

CA_NAME = "EventOps local CA"
CA_DAYS = 3650
SERVER_DAYS = 397
#: a server certificate this close to its end is made again
RENEW_BEFORE = datetime.timedelta(days=30)


@dataclass(frozen=True)
class TlsFiles:
    #: the CA certificate (PEM): what a tablet installs once; public
    ca_certificate: Path
    #: the server certificate followed by the CA's (PEM), for gunicorn's certfile or nginx's ssl_certificate
    certificate: Path
    #: the server's private key (PEM, 0600)
    key: Path


def server_files(directory: Path, names: Iterable[str]) -> TlsFiles:
    """The CA (made once) and a server certificate valid for every name (IP addresses or host names)."""
    directory = private_directory(directory)
    ca_key, ca_certificate = _certificate_authority(directory)
    wanted = _alt_names(names)
    certificate_path, key_path = directory / "server.crt", directory / "server.key"
    if not _current(certificate_path, key_path, wanted, ca_certificate):
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = _server_certificate(key, wanted, ca_key, ca_certificate)
        _write(key_path, _key_pem(key))
        _write(certificate_path, _pem(certificate) + _pem(ca_certificate))
    return TlsFiles(directory / "ca.crt", certificate_path, key_path)


def _certificate_authority(directory: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key_path, certificate_path = directory / "ca.key", directory / "ca.crt"
    if key_path.exists() and certificate_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        return key, x509.load_pem_x509_certificate(certificate_path.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{CA_NAME} ({os.uname().nodename})"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EventOps"),
        ]
    )
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    # The key first: a certificate on disk without its key would be taken for a finished CA.
    _write(key_path, _key_pem(key))
    _write(certificate_path, _pem(certificate))
    return key, certificate


def _server_certificate(
    key: ec.EllipticCurvePrivateKey,
    names: frozenset[x509.GeneralName],
    ca_key: ec.EllipticCurvePrivateKey,
    ca_certificate: x509.Certificate,
) -> x509.Certificate:
    now = _now()
    first = sorted(names, key=_sort_key)[0]
    common_name = str(first.value)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sorted(names, key=_sort_key)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_certificate.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def _current(
    certificate_path: Path, key_path: Path, names: frozenset[x509.GeneralName], ca: x509.Certificate
) -> bool:
    """Whether the server certificate on disk is for exactly these names, from this CA, and not ending."""
    if not (certificate_path.exists() and key_path.exists()):
        return False
    try:
        certificate = x509.load_pem_x509_certificates(certificate_path.read_bytes())[0]
        present = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    return (
        frozenset(present) == names
        and certificate.issuer == ca.subject
        and certificate.not_valid_after_utc - RENEW_BEFORE > _now()
    )


def _alt_names(names: Iterable[str]) -> frozenset[x509.GeneralName]:
    result: set[x509.GeneralName] = set()
    for name in names:
        name = name.strip().strip("[]")
        if not name:
            continue
        try:
            result.add(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            result.add(x509.DNSName(name.lower()))
    if not result:
        raise ValueError("a server certificate needs at least one address or host name")
    return frozenset(result)


def _sort_key(name: x509.GeneralName) -> tuple[int, str]:
    # IP addresses first: the address the tablets open names the certificate.
    return (0 if isinstance(name, x509.IPAddress) else 1, str(name.value))


def _key_usage(*, key_cert_sign: bool = False, digital_signature: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes) -> None:
    """Written whole under a temporary name (0600 from the start) and renamed into place: a server starting
    at that moment reads the old file or the new one, never half of one."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
