"""Client API tokens, encrypted at rest.

Keys: Fernet keys (AES-128-CBC + HMAC-SHA256, from `cryptography`), taken from `CONFIRMA_TOKEN_KEY` (a
comma-separated list: the FIRST key encrypts, every key decrypts, which is how a key is rotated) or, when that
is not set, from the file named by `CONFIRMA_TOKEN_KEY_FILE` (keys separated by commas or new lines). Generate
a key with `confirma-pipeline tokens generate-key`. Every key has an id, the first 8 hex digits of the sha256
of the key: `confirma.client_tokens.key_id` records which key encrypted a row (the id reveals nothing usable).

Rotation: put the new key first and keep the old one after it (`CONFIRMA_TOKEN_KEY=new,old`), run
`confirma-pipeline tokens rotate-key` (re-encrypts every row under the new key), then drop the old key.

Tokens never appear in logs, exceptions, reprs or metadata: code passes them around as `ClientToken`, whose
str/repr/format are `***`, which refuses to be pickled, and whose value is only available through `.reveal()`.
The table stores the ciphertext and a fingerprint (first 8 hex digits of the token's sha256), never the token.
Error messages name settings and key ids, never key material.

Pure cryptography: storing, loading and re-encrypting the tokens in `confirma.client_tokens` is the token
repository's (`warehouse/client_tokens.py`), which uses this module.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from confirma_pipeline.errors import ConfigError

KEY_ENV = "CONFIRMA_TOKEN_KEY"
KEY_FILE_ENV = "CONFIRMA_TOKEN_KEY_FILE"
TOKEN_STATUSES = ("unknown", "valid", "expiring", "expired", "invalid")


class TokenDecryptError(ConfigError):
    """A stored token could not be decrypted with any configured key."""


class ClientToken:
    """A client API token that does not leak: `str()`, `repr()` and f-strings show `***`; `reveal()` gives the
    value (only where it is sent, e.g. the `X-Api-Key` header). Equality is constant-time; pickling refuses."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, ClientToken):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("ClientToken wraps a str")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        return self._value

    @property
    def fingerprint(self) -> str:
        return fingerprint(self._value)

    def __repr__(self) -> str:
        return f"ClientToken(***, fingerprint={self.fingerprint})"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ClientToken):
            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("ClientToken", self.fingerprint))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __setattr__(self, name, value):
        raise AttributeError("ClientToken is immutable")

    def __reduce__(self):
        raise TypeError("ClientToken cannot be pickled (it would write the token in clear)")


def fingerprint(token: str | ClientToken) -> str:
    """First 8 hex digits of the token's sha256: enough to tell tokens apart, useless to recover one."""
    value = token.reveal() if isinstance(token, ClientToken) else token
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]


def key_id(key: bytes | str) -> str:
    """Short id of a key: first 8 hex digits of its sha256."""
    raw = key.encode("ascii") if isinstance(key, str) else key
    return hashlib.sha256(raw.strip()).hexdigest()[:8]


def generate_key() -> str:
    """A new random Fernet key (url-safe base64 text)."""
    return Fernet.generate_key().decode("ascii")


def split_keys(text: str) -> list[str]:
    """The keys of a CONFIRMA_TOKEN_KEY value or key file: comma- or line-separated, first encrypts."""
    return [part.strip() for chunk in text.splitlines() for part in chunk.split(",") if part.strip()]


def _key_bytes(key: str | bytes) -> bytes:
    return (key.encode("ascii", "replace") if isinstance(key, str) else bytes(key)).strip()


def fernets(keys: Sequence[str | bytes]) -> list[Fernet]:
    """One Fernet per key, or ValueError naming the bad key by its position only: the message never holds key
    material (settings.check() reports it for CONFIRMA_TOKEN_KEY before any work; the vault for a key file)."""
    if not keys:
        raise ValueError("no key given")
    out: list[Fernet] = []
    for number, key in enumerate(keys, start=1):
        try:
            out.append(Fernet(_key_bytes(key)))
        except (ValueError, TypeError):
            raise ValueError(
                f"key #{number} is not a valid Fernet key (32 url-safe base64-encoded bytes; "
                "generate one with `confirma-pipeline tokens generate-key`)"
            ) from None
    return out


class TokenVault:
    """Encrypts and decrypts client tokens with a list of Fernet keys (first encrypts, all decrypt)."""

    def __init__(self, keys: Sequence[str | bytes], *, source: str = KEY_ENV) -> None:
        try:
            parsed = fernets(keys)
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        self._fernet = MultiFernet(parsed)
        self._fernets = parsed
        self._ids = [key_id(_key_bytes(key)) for key in keys]
        self._source = source

    # --- construction --------------------------------------------------------------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TokenVault:
        """Keys from `CONFIRMA_TOKEN_KEY`, else from the file in `CONFIRMA_TOKEN_KEY_FILE`; `ConfigError`
        naming the setting when neither is usable (the message never contains key material)."""
        env = os.environ if environ is None else environ
        text = env.get(KEY_ENV, "").strip()
        if text:
            return cls(split_keys(text), source=KEY_ENV)
        path = env.get(KEY_FILE_ENV, "").strip()
        if path:
            return cls.from_file(path)
        raise ConfigError(
            f"{KEY_ENV} is not set (nor {KEY_FILE_ENV}): set it to a Fernet key to encrypt client tokens "
            "(generate one with `confirma-pipeline tokens generate-key`)"
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> TokenVault:
        source = f"{KEY_FILE_ENV} ({path})"
        try:
            text = Path(path).read_text(encoding="ascii", errors="replace")
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read the key file: {exc.strerror}") from None
        keys = split_keys(text)
        if not keys:
            raise ConfigError(f"{source}: the key file is empty")
        return cls(keys, source=source)

    # --- properties ----------------------------------------------------------------------------------------

    @property
    def key_id(self) -> str:
        """Id of the key that encrypts (the first)."""
        return self._ids[0]

    @property
    def key_ids(self) -> list[str]:
        return list(self._ids)

    def __repr__(self) -> str:
        return f"TokenVault(keys={len(self._ids)}, key_ids={self._ids})"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("TokenVault cannot be pickled (it holds keys)")

    # --- crypto --------------------------------------------------------------------------------------------

    def encrypt(self, token: str | ClientToken) -> tuple[bytes, str]:
        """(ciphertext, key_id of the encrypting key)."""
        value = token.reveal() if isinstance(token, ClientToken) else token
        if not isinstance(value, str) or not value:
            raise ValueError("refusing to encrypt an empty token")
        return self._fernet.encrypt(value.encode("utf-8")), self.key_id

    def decrypt(self, ciphertext: bytes | memoryview, *, what: str = "a client token") -> str:
        """The token, or `TokenDecryptError` when no configured key opens it (e.g. the key was removed)."""
        try:
            return self._fernet.decrypt(bytes(ciphertext)).decode("utf-8")
        except InvalidToken:
            raise TokenDecryptError(
                f"cannot decrypt {what} with any key in {self._source} (configured key ids: "
                f"{', '.join(self._ids)}); was it encrypted with a key that is no longer configured?"
            ) from None

    def decrypt_token(self, ciphertext: bytes | memoryview, *, what: str = "a client token") -> ClientToken:
        return ClientToken(self.decrypt(ciphertext, what=what))

    def rotate(self, ciphertext: bytes | memoryview, *, what: str = "a client token") -> bytes:
        """Re-encrypt under the first key."""
        try:
            return self._fernet.rotate(bytes(ciphertext))
        except InvalidToken:
            raise TokenDecryptError(
                f"cannot decrypt {what} with any key in {self._source} (configured key ids: "
                f"{', '.join(self._ids)}); add the key it was encrypted with to rotate it"
            ) from None

    @staticmethod
    def fingerprint(token: str | ClientToken) -> str:
        return fingerprint(token)


def ensure_local_key_file(path: str | os.PathLike) -> tuple[Path, bool]:
    """For the demo / a laptop: make sure a key file exists at `path` (mode 0600), creating a new random key if
    not. Returns `(path, created)`; the caller says so when `created` (and points `CONFIRMA_TOKEN_KEY_FILE` at
    it). Never overwrites an existing file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return target, False
    try:
        os.write(fd, (generate_key() + "\n").encode("ascii"))
    finally:
        os.close(fd)
    os.chmod(target, 0o600)
    return target, True
