"""JSON API v1 for the vendor's own app and website."""
