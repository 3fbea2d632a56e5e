"""The shared work plan: both nodes hold the same plan; a change takes effect when the other side accepts it."""
