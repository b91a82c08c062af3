class DomainError(Exception):
    """A business rule refused an action. Views show ``message`` to the user as it is."""

    def __init__(self, message: str, *, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return str(self.message)


class IllegalTransition(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="illegal_transition")
