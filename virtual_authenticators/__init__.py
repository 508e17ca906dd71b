"""Software stand-ins for the authenticators a person uses: TOTP apps and (later) security keys."""
