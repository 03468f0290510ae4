"""Privileged actions in the browser: request, approve, execute, object; TOTP step-up."""
