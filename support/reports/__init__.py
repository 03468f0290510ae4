"""PDF case reports: the download route and the report commands."""
