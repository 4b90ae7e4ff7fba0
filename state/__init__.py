"""Server-side state shared by every worker and machine: the task registry and what goes with it."""
