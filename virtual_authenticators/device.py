"""What every software security key device shares: :class:`SoftDevice`, a python-fido2
``CtapDevice`` that is plugged in nowhere, holds credentials a test may look at, and may be
given one fault among those its kind can have."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from typing import ClassVar

from fido2.ctap import CtapDevice

from virtual_authenticators.faulty import Fault


class SoftDevice(CtapDevice):
    """A software security key: a ``CtapDevice`` with credentials, counters and a fault.

    Subclasses name the faults they can have in :attr:`FAULTS` and say, in
    :meth:`_refusal_of`, why any other is refused.
    """

    FAULTS: ClassVar[frozenset[Fault]]
    """The faults a device of this kind can have."""

    _fault: Fault | None = None

    @property
    def fault(self) -> Fault | None:
        """The fault the device has, or ``None``; settable.

        :raises ValueError: a fault not in :attr:`FAULTS`.
        """
        return self._fault

    @fault.setter
    def fault(self, fault: Fault | None) -> None:
        if fault is not None and fault not in self.FAULTS:
            raise ValueError(self._refusal_of(fault))
        self._fault = fault

    @classmethod
    def list_devices(cls) -> Iterator[CtapDevice]:
        """Nothing: a software device is plugged in nowhere; make one instead."""
        return iter(())

    @property
    @abc.abstractmethod
    def credentials(self) -> tuple[bytes, ...]:
        """The ids (key handles) of the credentials held, oldest first."""

    @abc.abstractmethod
    def sign_count(self, credential_id: bytes) -> int:
        """The signature counter the credential last reported.

        :raises KeyError: the device does not hold it.
        """

    @abc.abstractmethod
    def set_sign_count(self, credential_id: bytes, count: int) -> None:
        """Set the credential's counter, e.g. to stand for a key used elsewhere before.

        :raises KeyError: the device does not hold it.
        :raises ValueError: the count does not fit the 32-bit field.
        """

    @abc.abstractmethod
    def _refusal_of(self, fault: Fault) -> str:
        """Why this kind of device cannot have ``fault``, in one line."""
