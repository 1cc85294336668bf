"""`make faults`: a scripted fault campaign on a stack of its own (issue 16)."""
