"""Agent sign-in, sign-out and the loader flask-login uses."""
