"""The simulated users: each a thread with its own account, session and random generator (derived
from the master seed and its index, so a seed replays the same choices), running weighted random
operations with short random pauses until the load ends; and an operator replaying the DLQ.

Replaying a seed repeats every user's choices; what the system does with them (which request
wins a race) is what varies, and what the checker judges."""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import requests

from bench.workload.client import ApiClient
from bench.workload.history import History, ListingVersion
from bench.workload.inputs import Corpus, Upload

PASSWORD = "workload-passphrase-4-tests"
MAX_PAUSE = 0.3  # seconds between a user's operations
MAX_WAKE_UP_GAP = 0.04  # upload, then ask for an analysis this soon: the lost wake-up's window
ANALYZE_ROUTE = "/api/resumes/{resume_id}/analyze"


def user_rng(seed: int, index: int) -> random.Random:
    """Each user's own stream: the same seed gives every user the same choices, whatever the
    interleaving of threads."""
    return random.Random(f"{seed}:{index}")


def at_once(*calls: Callable[[], object]) -> None:
    """Run the calls in threads released together, as two browser tabs (or a retrying proxy) would."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        call()

    threads = [threading.Thread(target=run, args=(call,), daemon=True) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@dataclass
class Owned:
    """What a user knows it has: ids the API gave it and not yet deleted."""

    resumes: list[str] = field(default_factory=list)
    listings: list[str] = field(default_factory=list)
    applications: list[str] = field(default_factory=list)
    deleted_applications: list[str] = field(default_factory=list)
    bulk_runs: list[str] = field(default_factory=list)


class User:
    def __init__(self, index: int, seed: int, base_url: str, history: History, corpus: Corpus) -> None:
        self.rng = user_rng(seed, index)
        self.name = f"user{index}"
        self.email = f"workload-{seed}-{index}@example.com"
        self.api = ApiClient(base_url, self.name, history)
        self.history = history
        self.corpus = corpus
        self.owned = Owned()
        self.operations: list[tuple[Callable[[], None], int]] = [
            (self.upload, 8), (self.upload_hostile, 3), (self.upload_then_analyze, 8), (self.analyze_later, 10),
            (self.analyze_twice_at_once, 4), (self.analyze_idempotently, 4), (self.analyze_forced, 3),
            (self.reextract, 3), (self.create_listing, 2), (self.edit_listing, 4), (self.delete_listing, 2),
            (self.create_application, 5), (self.delete_application, 2), (self.restore_application, 2),
            (self.delete_resume, 2), (self.upload_then_delete, 3), (self.analyze_then_delete_resume, 2),
            (self.start_bulk_run, 2), (self.cancel_bulk_run, 2), (self.poll, 5),
        ]

    # --- the loop -------------------------------------------------------------------------------

    def setup(self) -> None:
        self.api.login(self.email, PASSWORD, register=True)
        for _ in range(2):
            self.create_listing()
        self._upload(self.rng.choice(self.corpus.resumes))

    def run_until(self, deadline: float) -> int:
        """Random operations until ``deadline`` (time.monotonic()); returns how many ran."""
        actions, weights = zip(*self.operations)
        count = 0
        while time.monotonic() < deadline:
            action = self.rng.choices(actions, weights)[0]
            self.api.begin(action.__name__)
            action()
            count += 1
            time.sleep(self.rng.uniform(0, MAX_PAUSE))
        return count

    # --- resumes --------------------------------------------------------------------------------

    def _upload(self, upload: Upload) -> str | None:
        answer = self.api.request("POST", "/api/resumes", returns="resume",
                                  files={"file": (upload.filename, upload.data, upload.content_type)})
        if answer is not None and answer.status_code == 201:
            self.owned.resumes.append(answer.json()["id"])
            return self.owned.resumes[-1]
        return None

    def upload(self) -> None:
        self._upload(self.rng.choice(self.corpus.resumes))

    def upload_hostile(self) -> None:
        self._upload(self.rng.choice(self.corpus.hostile))

    def reextract(self) -> None:
        if self.owned.resumes:
            self.api.request("POST", "/api/resumes/{resume_id}/extract", returns="resume",
                             resume_id=self.rng.choice(self.owned.resumes))

    def _delete_resume(self, resume_id: str) -> None:
        answer = self.api.request("DELETE", "/api/resumes/{resume_id}", resume_id=resume_id)
        if answer is not None and answer.status_code in (204, 404) and resume_id in self.owned.resumes:
            self.owned.resumes.remove(resume_id)

    def delete_resume(self) -> None:
        """Usually the newest: its extraction or analyses may still be running."""
        if len(self.owned.resumes) > 1:
            self._delete_resume(self.owned.resumes[-1] if self.rng.random() < 0.7 else self.rng.choice(self.owned.resumes))

    def upload_then_delete(self) -> None:
        """Delete a resume while its text is being extracted."""
        resume_id = self._upload(self.rng.choice(self.corpus.resumes))
        if resume_id:
            time.sleep(self.rng.uniform(0, MAX_PAUSE))
            self._delete_resume(resume_id)

    # --- analyses -------------------------------------------------------------------------------

    def _analyze(self, resume_id: str, listing_id: str, *, force: bool = False, key: str | None = None) -> None:
        headers = {"Idempotency-Key": key} if key else None
        self.api.request("POST", ANALYZE_ROUTE, returns="analysis", json={"job_id": listing_id, "force": force},
                         headers=headers, resume_id=resume_id)

    def _pair(self) -> tuple[str, str] | None:
        if not (self.owned.resumes and self.owned.listings):
            return None
        return self.rng.choice(self.owned.resumes), self.rng.choice(self.owned.listings)

    def upload_then_analyze(self) -> None:
        """Ask for an analysis right after the upload: its extraction is queued or running."""
        resume_id = self._upload(self.rng.choice(self.corpus.resumes))
        if resume_id and self.owned.listings:
            time.sleep(self.rng.uniform(0, MAX_WAKE_UP_GAP))
            self._analyze(resume_id, self.rng.choice(self.owned.listings))

    def analyze_later(self) -> None:
        if pair := self._pair():
            self._analyze(*pair)

    def analyze_forced(self) -> None:
        if pair := self._pair():
            self._analyze(*pair, force=True)

    def analyze_twice_at_once(self) -> None:
        """The same question from two tabs at the same moment: one analysis, not two."""
        if pair := self._pair():
            at_once(lambda: self._analyze(*pair), lambda: self._analyze(*pair))

    def analyze_idempotently(self) -> None:
        """A retried POST with the same Idempotency-Key, at the same moment or after the first."""
        if not (pair := self._pair()):
            return
        key = f"{self.name}-{self.rng.getrandbits(64):016x}"
        force = self.rng.random() < 0.5
        if self.rng.random() < 0.5:
            at_once(lambda: self._analyze(*pair, force=force, key=key), lambda: self._analyze(*pair, force=force, key=key))
        else:
            self._analyze(*pair, force=force, key=key)
            self._analyze(*pair, force=force, key=key)

    def analyze_then_delete_resume(self) -> None:
        """Delete a resume while its analysis is queued or running."""
        if len(self.owned.resumes) > 1 and (pair := self._pair()):
            self._analyze(*pair)
            time.sleep(self.rng.uniform(0, MAX_PAUSE))
            self._delete_resume(pair[0])

    def poll(self) -> None:
        if pair := self._pair():
            self.api.request("GET", "/api/resumes/{resume_id}/analysis/{job_id}", returns="analysis",
                             resume_id=pair[0], job_id=pair[1])

    # --- listings -------------------------------------------------------------------------------

    def _note_listing(self, answer: requests.Response | None, guess: ListingVersion, listing_id: str | None) -> None:
        """Remember each version of a listing the client wrote: the answer's, or, when no answer
        came, what was sent (it may have been stored)."""
        if answer is not None and answer.ok:
            body = answer.json()
            self.history.record_listing(body["id"], ListingVersion(body["title"], body["description"], True))
        elif answer is None and listing_id:
            self.history.record_listing(listing_id, guess)

    def create_listing(self) -> None:
        listing = self.rng.choice(self.corpus.listings)
        answer = self.api.request("POST", "/api/jobs", returns="listing", json={
            "company": f"Company {self.rng.randrange(100)}", "title": listing.title, "description": listing.description})
        self._note_listing(answer, ListingVersion(listing.title, listing.description, False), None)
        if answer is not None and answer.status_code == 201:
            self.owned.listings.append(answer.json()["id"])

    def edit_listing(self) -> None:
        """A new title or description: analyses asked for before must still name a version the
        client wrote, and results computed meanwhile must match the text they were computed from."""
        if not self.owned.listings:
            return
        listing_id = self.rng.choice(self.owned.listings)
        before = self.history.last_listing(listing_id)
        listing = self.rng.choice(self.corpus.listings)
        if self.rng.random() < 0.5:
            body = {"company": f"Company {self.rng.randrange(100)}", "title": listing.title,
                    "description": listing.description}
            answer = self.api.request("PUT", "/api/jobs/{job_id}", returns="listing", json=body, job_id=listing_id)
            guess = ListingVersion(listing.title, listing.description, False)
        else:
            title = f"{listing.title} ({self.rng.randrange(1000)})"
            answer = self.api.request("PATCH", "/api/jobs/{job_id}", returns="listing", json={"title": title},
                                      job_id=listing_id)
            guess = ListingVersion(title, before.description if before else "", False)
        self._note_listing(answer, guess, listing_id)

    def delete_listing(self) -> None:
        """409 while applications use it; otherwise its analyses go with it."""
        if len(self.owned.listings) > 1:
            listing_id = self.rng.choice(self.owned.listings)
            answer = self.api.request("DELETE", "/api/jobs/{job_id}", job_id=listing_id)
            if answer is not None and answer.status_code == 204:
                self.owned.listings.remove(listing_id)

    # --- applications ---------------------------------------------------------------------------

    def create_application(self) -> None:
        """An application with a resume queues its analysis; then read it as a web page would."""
        if not (pair := self._pair()):
            return
        answer = self.api.request("POST", "/api/applications", returns="application",
                                  json={"job_id": pair[1], "resume_id": pair[0], "status": "applied"})
        if answer is not None and answer.status_code == 201:
            application_id = answer.json()["id"]
            self.owned.applications.append(application_id)
            self.api.request("GET", "/api/applications/{application_id}/analysis", returns="analysis",
                             application_id=application_id)

    def delete_application(self) -> None:
        if self.owned.applications:
            application_id = self.rng.choice(self.owned.applications)
            answer = self.api.request("DELETE", "/api/applications/{application_id}", application_id=application_id)
            if answer is not None and answer.status_code == 204:
                self.owned.applications.remove(application_id)
                self.owned.deleted_applications.append(application_id)

    def restore_application(self) -> None:
        if self.owned.deleted_applications:
            application_id = self.rng.choice(self.owned.deleted_applications)
            answer = self.api.request("POST", "/api/applications/{application_id}/restore", returns="application",
                                      application_id=application_id)
            if answer is not None and answer.status_code == 200:
                self.owned.deleted_applications.remove(application_id)
                self.owned.applications.append(application_id)

    # --- bulk re-analysis -----------------------------------------------------------------------

    def start_bulk_run(self) -> None:
        """Re-analyse everything (or one resume's pairs), not only older results, so that the
        run has work to do with one analyzer."""
        body: dict = {"older_than_current": False}
        if self.owned.resumes and self.rng.random() < 0.5:
            body["resume_id"] = self.rng.choice(self.owned.resumes)
        answer = self.api.request("POST", "/api/analyses/reanalyze", returns="bulk_run", json=body)
        if answer is not None and answer.status_code == 202:
            self.owned.bulk_runs.append(answer.json()["id"])
            if self.rng.random() < 0.3:  # cancel it while it expands
                self.cancel_bulk_run()

    def cancel_bulk_run(self) -> None:
        if self.owned.bulk_runs:
            self.api.request("POST", "/api/analyses/reanalyze/{bulk_run_id}/cancel", returns="bulk_run",
                             bulk_run_id=self.owned.bulk_runs[-1])


class Operator:
    """An administrator who lists the dead-letter queue and replays some of it, now and then."""

    def __init__(self, seed: int, base_url: str, history: History, email: str) -> None:
        self.rng = user_rng(seed, -1)
        self.email = email
        self.api = ApiClient(base_url, "operator", history)

    def setup(self) -> None:
        self.api.login(self.email, PASSWORD, register=False)

    def run_until(self, deadline: float) -> int:
        count = 0
        since = datetime.now(timezone.utc).isoformat()
        while time.monotonic() < deadline:
            time.sleep(self.rng.uniform(1.0, 4.0))
            self.api.begin("list_dlq")
            self.api.request("GET", "/api/dlq", returns="dead_job")
            self.api.begin("replay_dlq")
            selection = ({"kind": self.rng.choice(["resume_extraction", "analysis"])} if self.rng.random() < 0.5
                         else {"since": since})
            self.api.request("POST", "/api/dlq/requeue", returns="dlq_outcome",
                             json={**selection, "limit": self.rng.randint(1, 50)})
            count += 2
        return count
