"""Data protection: the data-protection officer's erasure page and the erasure and retention commands."""
