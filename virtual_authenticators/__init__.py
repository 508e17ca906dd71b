"""Software stand-ins for the authenticators a person uses: a TOTP app (``totp``) and WebAuthn
security keys behind one interface (``base``): an honest one (``soft``) and one with a chosen
fault (``faulty``)."""
