"""A certificate authority made for one sandbox, and the loopback server certificate it signs.

The real `gh` speaks HTTPS only (GitHub Enterprise mode), so the GitHub stand-in has a second listener with
TLS. The CA's PEM is what a client trusts (`SSL_CERT_FILE` for gh); the keys stay in a private
temporary folder, made once per process (every sandbox of a test run shares it) and removed
when the process exits. `cryptography` comes with paramiko (fabric), so this adds no dependency.
"""

from __future__ import annotations

import datetime
import ipaddress
import threading
from dataclasses import dataclass
from pathlib import Path

_lock = threading.Lock()
_shared: "Certificates | None" = None


@dataclass(frozen=True)
class Certificates:
    ca_file: Path      # trust this (SSL_CERT_FILE)
    cert_file: Path    # the server's certificate, for 127.0.0.1 and localhost
    key_file: Path     # its private key (0600)


def make_certificates(folder: Path) -> Certificates:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mtn-runbook sandbox"),
                          x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("mtn-runbook sandbox CA")).issuer_name(name("mtn-runbook sandbox CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))

    folder.mkdir(parents=True, exist_ok=True)
    out = Certificates(folder / "sandbox-ca.pem", folder / "github-cert.pem", folder / "github-key.pem")
    out.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    out.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out.key_file.touch(mode=0o600)
    out.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return out


def shared_certificates() -> Certificates:
    """This process's certificates (made on first use; ~0.2 s), in a folder removed at exit."""
    global _shared
    with _lock:
        if _shared is None:
            import atexit
            import shutil
            import tempfile

            folder = Path(tempfile.mkdtemp(prefix="mtn-sandbox-tls-"))
            atexit.register(shutil.rmtree, folder, True)
            _shared = make_certificates(folder)
        return _shared
