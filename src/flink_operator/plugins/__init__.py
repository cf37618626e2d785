"""The public plugin API: validators, mutators and listeners, their contexts, and how they are found and loaded."""
