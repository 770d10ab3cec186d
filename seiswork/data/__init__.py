"""The data layer: events and labels as arrays (DATA's version replaces this placeholder at the merge)."""
