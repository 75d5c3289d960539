"""Password hashing (argon2id) and the rules a new password must meet."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 128  # argon2 accepts more, but an unbounded input is a cheap way to burn CPU

# The most common passwords from public breach lists that pass the length rule; a real
# dictionary check (zxcvbn, HIBP) can replace this list without changing callers.
COMMON_PASSWORDS = frozenset(
    """
    1234567890 0123456789 12345678910 1111111111 0000000000 1234512345 9876543210
    qwertyuiop asdfghjkl; 1q2w3e4r5t q1w2e3r4t5 1qaz2wsx3edc qwerty1234 qwerty12345
    password12 password123 password1234 passw0rd12 p@ssword12 p@ssw0rd123 iloveyou12
    letmein123 welcome123 changeme12 football12 baseball12 sunshine12 princess12
    abcdefghij abc1234567 administrator trustno1234 superman12 starwars12
    """.split()
)


class WeakPassword(ValueError):
    """The password breaks a rule; the message says which, in words a user understands."""


def check_password_strength(password: str, *, email: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Password must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Password must be at most {MAX_LENGTH} characters long.")
    if len(set(password)) < 4:
        raise WeakPassword("Password must not be one character repeated; use at least 4 different characters.")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        raise WeakPassword("This password is too common; choose one that is not on breach lists.")
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 4 and local_part in lowered:
        raise WeakPassword("Password must not contain your email address.")


class PasswordHashing:
    """argon2id with cost parameters from config (tests lower them to stay fast)."""

    def __init__(self, *, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
