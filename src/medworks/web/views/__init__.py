"""HTML faces: each view parses input, checks a capability, calls a selector or service, renders."""
