"""Public claimant pages: file a case, confirm the contact email, track the case."""
