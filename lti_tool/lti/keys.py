"""The tool's signing keys: generated on first use, rotated with a grace period for old tokens."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from jwcrypto.jwk import JWK

from ..extensions import db
from ..models import ToolKey, utcnow


def new_rsa_key_pems() -> tuple[bytes, bytes]:
    """A new 2048-bit RSA key as (private PKCS#8 PEM, public SubjectPublicKeyInfo PEM).

    The one place keys are made: the tool's signing keys, the development LMS and the test LMS.
    """
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()),
            private.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))


def _new_key() -> ToolKey:
    private_pem, public_pem = (pem.decode() for pem in new_rsa_key_pems())
    # The kid is the RFC 7638 thumbprint, the same value pylti1p3 puts in the JWT header.
    kid = JWK.from_pem(public_pem.encode()).thumbprint()
    return ToolKey(kid=kid, private_key_pem=private_pem, public_key_pem=public_pem)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key_pem: str
    public_key_pem: str


_ACTIVE: dict[str, tuple[float, SigningKey]] = {}
ACTIVE_KEY_TTL_SECONDS = 60


def _load_active() -> SigningKey:
    """The newest active key from the database, created if there is none."""
    key = db.session.execute(
        db.select(ToolKey).where(ToolKey.retired_at.is_(None)).order_by(ToolKey.id.desc())
    ).scalars().first()
    if key is None:
        key = _new_key()
        db.session.add(key)
        db.session.commit()
    return SigningKey(key.kid, key.private_key_pem, key.public_key_pem)


def active_key() -> SigningKey:
    """The key that signs, cached a minute per process.

    After a rotation in another process the old key may sign for up to a minute more, which is
    fine: it stays in /lti/jwks for the grace period.
    """
    cache_key = str(db.engine.url)
    cached = _ACTIVE.get(cache_key)
    if cached and time.monotonic() - cached[0] < ACTIVE_KEY_TTL_SECONDS:
        return cached[1]
    key = _load_active()
    _ACTIVE[cache_key] = (time.monotonic(), key)
    return key


def rotate() -> ToolKey:
    """Add a new active key and retire the others (their public halves stay in JWKS a while)."""
    now = utcnow()
    for key in db.session.execute(db.select(ToolKey).where(ToolKey.retired_at.is_(None))).scalars():
        key.retired_at = now
    key = _new_key()
    db.session.add(key)
    db.session.commit()
    _ACTIVE.clear()
    return key


def public_jwks() -> dict:
    """JWKS of the active key and of keys retired within the grace period."""
    _load_active()
    cutoff = utcnow() - timedelta(days=current_app.config["LTI_KEY_GRACE_DAYS"])
    keys = db.session.execute(
        db.select(ToolKey)
        .where((ToolKey.retired_at.is_(None)) | (ToolKey.retired_at > cutoff))
        .order_by(ToolKey.id.desc())
    ).scalars()
    out = []
    for key in keys:
        jwk = JWK.from_pem(key.public_key_pem.encode()).export_public(as_dict=True)
        jwk.update({"kid": key.kid, "alg": "RS256", "use": "sig"})
        out.append(jwk)
    return {"keys": out}
