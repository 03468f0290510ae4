"""The audit log for auditors: filters and JSON Lines export."""
