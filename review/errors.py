"""What can go wrong with a review database or a decision, as types: one handler
(:mod:`nerd.review.problems`) turns each into its HTTP status, the CLI into one line."""

from __future__ import annotations

from typing import ClassVar

from nerd.errors import NerdError


class ReviewStoreError(NerdError):
    """A review database that cannot be used: unreachable, corrupted, locked, or made for other labels."""

    status_code: ClassVar[int] = 503


class NoDatabase(ReviewStoreError):
    """A path where no database is (nothing is created in its place)."""


class NotAReviewDatabase(ReviewStoreError):
    """A database that is some other program's, or a file that is no database at all."""


class DatabaseUnreachable(ReviewStoreError):
    """A server (PostgreSQL) that does not answer."""


class DatabaseReplaced(ReviewStoreError):
    """The SQLite file served was deleted or replaced: nothing written now would be kept."""


class OutdatedDatabase(ReviewStoreError):
    """A database of an older schema: ``nerd review upgrade`` brings it up to date."""


class DecisionRefused(NerdError):
    """A decision the database will not record as asked; ``status_code`` says why in HTTP's terms."""

    status_code: ClassVar[int] = 409


class NoSuchItem(DecisionRefused):
    status_code = 404


class NoSuchDecision(DecisionRefused):
    status_code = 404


class BadSpans(DecisionRefused):
    """Spans outside the sentence, of an unknown label, or overlapping."""

    status_code = 422


class LeasedToSomeoneElse(DecisionRefused):
    """The item is being reviewed by another person."""


class AlreadyDecided(DecisionRefused):
    """The item has all the decisions it needs from other reviewers."""


class NothingToUndo(DecisionRefused):
    """No decision of this reviewer to take back, or one already taken back."""


class NotAConflict(DecisionRefused):
    """A settlement on an item whose reviewers agree (or that has too few decisions)."""


class AccessDenied(NerdError):
    """No identity, or one without the role a route needs."""

    status_code: ClassVar[int] = 403


class NotSignedIn(AccessDenied):
    status_code = 401
