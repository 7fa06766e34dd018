"""Personnummer at rest: Fernet encryption plus a keyed HMAC for lookups."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret_key: str, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose, so one secret never serves two uses."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret_key.encode()
    )


def _fernet(secret_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(secret_key, b"kortkontor/personnummer/encrypt")))


class PersonnummerVault:
    """Encrypts, decrypts and fingerprints 12-digit personnummer.

    Under the current secret key, and while a key is being replaced, under the old ones too:
    rows written under an old key still decrypt and are still found, until `kortkontor keys
    rotate` has written them all anew under the current one.
    """

    def __init__(self, secret_key: str, old_keys: Sequence[str] = ()) -> None:
        if not secret_key:
            raise ValueError("a secret key is required")
        self._current = _fernet(secret_key)
        self._fernet = MultiFernet([self._current, *(_fernet(key) for key in old_keys if key)])
        self._hmac_keys = [
            _derive(key, b"kortkontor/personnummer/lookup")
            for key in (secret_key, *old_keys)
            if key
        ]

    def encrypt(self, personnummer: str) -> str:
        """The ciphertext to store, under the current key."""
        return self._current.encrypt(personnummer.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """The plain 12-digit number, for the one place that may show it."""
        return self._fernet.decrypt(ciphertext.encode()).decode()

    def readable(self, ciphertext: str) -> str | None:
        """The number, or None when no key given decrypts it."""
        try:
            return self.decrypt(ciphertext)
        except InvalidToken:
            return None

    def lookup_key(self, personnummer: str) -> str:
        """A stable keyed fingerprint, so equal numbers can be found without decrypting."""
        return self.lookup_keys(personnummer)[0]

    def lookup_keys(self, personnummer: str) -> list[str]:
        """The fingerprint under the current key, then under each old one."""
        return [
            hmac.new(key, personnummer.encode(), hashlib.sha256).hexdigest()
            for key in self._hmac_keys
        ]

    def is_current(self, ciphertext: str) -> bool:
        """Whether the ciphertext was written under the current key."""
        try:
            self._current.decrypt(ciphertext.encode())
        except InvalidToken:
            return False
        return True


def mask_personnummer(personnummer: str) -> str:
    """Show the birth date and hide the last four digits: 19811228-****."""
    return f"{personnummer[:8]}-****"


def hash_token(token: str) -> str:
    """Tokens are stored as their SHA-256, so a leaked table reveals no usable link."""
    return hashlib.sha256(token.encode()).hexdigest()


# -- signed links: an admin's calendar feed, the Telegram webhook ------------------------------

FEED_MAC_HEX = 32  # 128 bits of HMAC-SHA256: unguessable, and short enough for a phone's URL


def _feed_mac(secret_key: str, admin_id: int) -> str:
    key = _derive(secret_key, b"kortkontor/calendar-feed")
    return hmac.new(key, str(admin_id).encode(), hashlib.sha256).hexdigest()[:FEED_MAC_HEX]


def feed_token(secret_key: str, admin_id: int) -> str:
    """The secret part of an admin's calendar feed URL: their id and its HMAC."""
    return f"{admin_id}-{_feed_mac(secret_key, admin_id)}"


def admin_for_feed_token(secret_key: str, token: str) -> int | None:
    """The admin id a feed token was made for; None for anything forged or malformed."""
    admin_id, _, mac = token.partition("-")
    if not (admin_id.isascii() and admin_id.isdigit()) or len(admin_id) > 18:
        return None
    if str(int(admin_id)) != admin_id:
        return None  # one token per admin: no leading zeros
    expected = _feed_mac(secret_key, int(admin_id))
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        return None
    return int(admin_id)


def webhook_secret(secret_key: str) -> str:
    """Telegram's X-Telegram-Bot-Api-Secret-Token: the same in every worker, A-Z a-z 0-9 _ -."""
    raw = _derive(secret_key, b"kortkontor/telegram/webhook")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
