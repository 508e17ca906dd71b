"""The harness's errors: each says in one line what is wrong and what to do."""


class HarnessError(Exception):
    """Base class: the run cannot go on, for a reason the tester can act on."""


class TargetError(HarnessError):
    """The target server could not be started, reached or understood."""


class ProfileError(HarnessError):
    """A target profile is missing or malformed."""


class ContractMismatch(HarnessError):
    """A page or response lacks what the index's contract promises (an id, a field, a header)."""


class MailTimeout(HarnessError):
    """An expected email did not arrive in time."""


class CollectionError(HarnessError):
    """pytest could not collect the scenarios; :attr:`output` holds the tail of its report."""

    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output


class MailboxError(HarnessError):
    """The IMAP mailbox holding the target's mail is misnamed, refuses the harness or is out of
    reach. :attr:`problem` says what is wrong and :attr:`fix` what to do; neither ever holds the
    mailbox's password."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}; {fix}")
        self.problem = problem
        self.fix = fix
