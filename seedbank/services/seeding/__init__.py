"""One seed run: its state, policy, stages, batches, dispatch and schedule."""
