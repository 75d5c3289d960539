"""The recorded client history: every request any simulated user sent, what came back, and
when each fault was injected. Appended to by many threads; read by the checker afterwards."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

@dataclass
class Event:
    """One request and its outcome, as the client saw it."""

    user: str
    op: str  # the generator's operation this request belongs to, e.g. "upload_then_analyze"
    op_number: int  # which of the user's operations: requests sent together share it
    method: str
    path: str  # as sent, e.g. /api/resumes/5e1…/analyze
    route: str  # the OpenAPI template, e.g. /api/resumes/{resume_id}/analyze
    started: float  # time.time()
    ended: float = 0.0
    status: int | None = None  # None: no HTTP answer (see error)
    error: str | None = None  # "timeout" (the client gave up) or "connection" (refused / reset)
    error_detail: str | None = None  # the exception behind ``error``, e.g. "ConnectionResetError: …"
    resent: bool = False  # sent again after its kept-alive connection closed under it (see client._may_resend)
    retry_after: str | None = None
    ids: dict[str, set[str]] = field(default_factory=dict)  # kind -> ids the request named or the answer returned
    state: str | None = None  # an analysis's or resume's state in the answer

    def add_id(self, kind: str, value: object) -> None:
        if value:
            self.ids.setdefault(kind, set()).add(str(value))

    def touches(self, ids: set[str]) -> bool:
        return any(ids & values for values in self.ids.values())

    def describe(self) -> str:
        outcome = self.status if self.status is not None else self.error
        extra = f" state={self.state}" if self.state else ""
        extra += f" Retry-After={self.retry_after}" if self.retry_after else ""
        ids = " ".join(f"{kind}={','.join(sorted(values))}" for kind, values in sorted(self.ids.items()))
        return (f"  t={self.started:.3f}+{self.ended - self.started:.3f}s {self.user} #{self.op_number} {self.op}: "
                f"{self.method} {self.path} -> {outcome}{extra} [{ids}]")


@dataclass(frozen=True)
class ListingVersion:
    title: str
    description: str
    confirmed: bool  # False: written by a request whose answer never came (it may or may not have landed)


@dataclass
class FaultWindow:
    name: str
    started: float
    ended: float | None = None


class History:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.events: list[Event] = []
        self.faults: list[FaultWindow] = []
        self.listing_versions: dict[str, list[ListingVersion]] = {}
        self._lock = threading.Lock()

    def record(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def record_listing(self, listing_id: str, version: ListingVersion) -> None:
        with self._lock:
            self.listing_versions.setdefault(listing_id, []).append(version)

    def last_listing(self, listing_id: str) -> ListingVersion | None:
        with self._lock:
            versions = self.listing_versions.get(listing_id)
            return versions[-1] if versions else None

    def fault_started(self, name: str, at: float) -> FaultWindow:
        window = FaultWindow(name, at)
        with self._lock:
            self.faults.append(window)
        return window

    def touching(self, ids: set[str]) -> list[Event]:
        """The operations that named any of ``ids``, in the order they were sent."""
        return sorted((e for e in self.events if e.touches(ids)), key=lambda e: e.started)

    def ids_of(self, kind: str) -> set[str]:
        return {value for event in self.events for value in event.ids.get(kind, ())}
