"""Software stand-ins for the authenticators a person uses: a TOTP app (``totp``) and WebAuthn
security keys behind one interface (``base``): an honest one (``soft``), one with a chosen fault
(``faulty``), a CTAP2 device driven as a USB key is (``ctap``), named in ``kinds``; and the ways
to put a key behind a browser page (``cdp``, ``playwright_credentials``, ``bridge``)."""
