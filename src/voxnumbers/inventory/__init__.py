"""Numbers for sale: search, bulk import, and the hand-over to a buyer."""
