"""Reports built from the node's own data: the joint progress report of the work plan."""
