"""How much a search reads, on both databases: one place, read at each search (a test narrows it)."""

#: matching texts ranked per source (newest first)
CANDIDATES = 200
#: a queue filter that leaves at most this many cases is searched through their ids, not newest first
FEW_CASES = 2000
