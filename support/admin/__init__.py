"""Administration pages: ``/admin/agents`` (invite, deactivate, role, password and TOTP resets)."""
