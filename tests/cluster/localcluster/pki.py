"""The cluster's certificates and keys, made on first start and kept under .cluster/pki.

EC P-256 keys: quick to make, and accepted by every component including the
service-account token signer.
"""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import hollownode

VALIDITY = datetime.timedelta(days=365)
APISERVER_SANS = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "127.0.0.1",
    "10.96.0.1",
)
# (file stem, common name, organization) of each client identity; RBAC's bootstrap
# roles and the Node authorizer know these names.
CLIENTS = (
    ("admin", "kubernetes-admin", "system:masters"),
    ("kube-controller-manager", "system:kube-controller-manager", None),
    ("kube-scheduler", "system:kube-scheduler", None),
    ("node", "system:node:local-node", "system:nodes"),
    ("proxy", "system:kube-proxy", None),
    *hollownode.CLIENTS,
    ("gateway", "nodowntime:gateway", None),  # gateway.NAME, gateway.USER: bound to its ClusterRole
)


def _write_key(path, key):
    with open(path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    os.chmod(path, 0o600)


def _write_cert(path, cert):
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def _name(cn, org=None):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _builder(subject, issuer, public_key):
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def _sans(names):
    entries = []
    for n in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            entries.append(x509.DNSName(n))
    return x509.SubjectAlternativeName(entries)


def _issue(pki, stem, ca_key, ca_cert, subject, usage, sans=None):
    key = ec.generate_private_key(ec.SECP256R1())
    b = (
        _builder(subject, ca_cert.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if sans:
        b = b.add_extension(_sans(sans), critical=False)
    _write_key(os.path.join(pki, stem + ".key"), key)
    _write_cert(os.path.join(pki, stem + ".crt"), b.sign(ca_key, hashes.SHA256()))


def ensure(pki):
    """Create the CA, the serving cert, client certs and the service-account keys once.

    The marker names the client identities made; a directory made before one was added is made again
    (every cluster start rewrites the kubeconfigs and etcd's data, so nothing holds the old ones).
    """
    marker = os.path.join(pki, "done")
    identities = " ".join(stem for stem, _cn, _org in CLIENTS)
    if os.path.exists(marker):
        with open(marker) as f:
            if f.read() == identities:
                return
    os.makedirs(pki, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("nodowntime-local-ca")
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(os.path.join(pki, "ca.key"), ca_key)
    _write_cert(os.path.join(pki, "ca.crt"), ca_cert)
    _issue(pki, "apiserver", ca_key, ca_cert, _name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH, APISERVER_SANS)
    for stem, cn, org in CLIENTS:
        _issue(pki, stem, ca_key, ca_cert, _name(cn, org), ExtendedKeyUsageOID.CLIENT_AUTH)
    sa_key = ec.generate_private_key(ec.SECP256R1())
    _write_key(os.path.join(pki, "sa.key"), sa_key)
    with open(os.path.join(pki, "sa.pub"), "wb") as f:
        f.write(
            sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    with open(marker, "w") as f:
        f.write(identities)
