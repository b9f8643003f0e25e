"""The local CA and its server certificate (eventops.tls): made once, made again when the address changes."""

from __future__ import annotations

import ipaddress
import ssl

from cryptography import x509

from eventops import tls


def alt_names(path) -> set[str]:
    certificate = x509.load_pem_x509_certificates(path.read_bytes())[0]
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(name.value) for name in names}


def test_the_server_certificate_names_every_address_and_verifies_against_the_ca(tmp_path):
    files = tls.server_files(tmp_path, ["192.168.1.23", "Laptop", "localhost"])
    assert alt_names(files.certificate) == {"192.168.1.23", "laptop", "localhost"}
    [server, ca] = x509.load_pem_x509_certificates(files.certificate.read_bytes())
    assert ca.public_bytes(tls.serialization.Encoding.PEM) == files.ca_certificate.read_bytes()
    server.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    # What TLS clients do with it: the key matches, and the CA alone vouches for the address.
    context = ssl.create_default_context(cafile=str(files.ca_certificate))
    context.load_cert_chain(files.certificate, files.key)
    for key in (tmp_path / "ca.key", files.key):
        assert key.stat().st_mode & 0o777 == 0o600


def test_a_new_address_gets_a_new_certificate_from_the_same_ca(tmp_path):
    first = tls.server_files(tmp_path, ["192.168.1.23", "localhost"])
    ca, certificate = first.ca_certificate.read_bytes(), first.certificate.read_bytes()
    again = tls.server_files(tmp_path, ["localhost", "192.168.1.23"])
    assert again.certificate.read_bytes() == certificate, "the same names must keep the certificate"
    moved = tls.server_files(tmp_path, ["10.0.0.7", "localhost"])
    assert moved.ca_certificate.read_bytes() == ca, "a tablet that trusts the CA must keep trusting it"
    assert alt_names(moved.certificate) == {"10.0.0.7", "localhost"}
    names = x509.load_pem_x509_certificates(moved.certificate.read_bytes())[0].extensions
    ips = names.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.IPAddress)
    assert ips == [ipaddress.ip_address("10.0.0.7")]  # an IP entry, not a DNS name spelled as digits
