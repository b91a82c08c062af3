"""The one state-machine mechanism (Oscar's ``available_statuses`` / ``set_status``).

A model with a ``status`` field (``Status(TextChoices)``) declares ``TRANSITIONS``
({status: statuses it may become}) and ``ILLEGAL_TRANSITION`` (the refusal, with
``%(old)s`` and ``%(new)s``), and mixes in ``StateMachine``. Services move it with a
compare-and-swap ``UPDATE ... WHERE status = <old>`` after ``check_transition`` and write
the move's event in the same transaction; views and templates ask
``available_transitions(user)`` what to offer instead of comparing status strings.
"""

from __future__ import annotations

from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from marketplace.core.errors import IllegalTransition


class StateMachine:
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {}
    ILLEGAL_TRANSITION: ClassVar[str] = _("“%(old)s” cannot become “%(new)s”.")

    status: str

    def next_statuses(self) -> set[str]:
        """Every status the row may become from where it is (ignoring who asks)."""
        return set(self.TRANSITIONS.get(self.status, set()))

    def can_become(self, target: str) -> bool:
        return target in self.TRANSITIONS.get(self.status, set())

    def check_transition(self, target: str) -> None:
        """Refuse a move the table does not allow, with a message the user can read."""
        if not self.can_become(target):
            raise IllegalTransition(
                self.ILLEGAL_TRANSITION
                % {"old": self.get_status_display(), "new": self.Status(target).label}
            )

    def available_transitions(self, user=None) -> list[str]:
        """What ``user`` may do with the row now; models with guards beyond the table
        (permissions, holds) override this. Defaults to the table's next statuses."""
        return sorted(self.next_statuses())
