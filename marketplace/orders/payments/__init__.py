"""Payments through providers: a built-in test provider and offline bank transfer."""
